"""The canvas codec: IDX files, pictures, rasterised drawings, fixed binarisation (seqart.codecs.canvas)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from PIL import Image, ImageDraw

from seqart.codecs import codec_for_path
from seqart.codecs.canvas import CanvasCodec
from seqart.errors import SeqartError
from seqart.formats.images import read_idx, write_idx

from tests.samples import SHEEP


def digits(n: int = 12, size: int = 10) -> np.ndarray:
    """(n, size, size) grey squares at varied places and brightness."""
    rng = np.random.default_rng(0)
    x = np.zeros((n, size, size), np.float32)
    for i in range(n):
        r, c = rng.integers(0, size - 4, 2)
        x[i, r : r + 4, c : c + 4] = rng.integers(60, 256) / 255
    return x


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "mine.idx"])
def test_idx_round_trip_and_the_codec_is_found_by_name(tmp_path, name):
    x = digits()
    write_idx(x, tmp_path / name)
    raw = (gzip.open if name.endswith(".gz") else open)(tmp_path / name, "rb").read()
    assert raw[:4] == bytes([0, 0, 8, 3]) and int.from_bytes(raw[4:8], "big") == 12  # MNIST's header
    assert np.array_equal(read_idx(tmp_path / name), np.rint(x * 255) / 255)
    assert isinstance(codec_for_path(tmp_path / name), CanvasCodec)


def test_bad_idx_files_are_one_line_errors(tmp_path):
    (tmp_path / "a.idx").write_bytes(b"\x01\x02\x08\x03" + bytes(12))
    with pytest.raises(SeqartError, match="a.idx: not an IDX file"):
        read_idx(tmp_path / "a.idx")
    write_idx(digits(), tmp_path / "b.idx")
    (tmp_path / "b.idx").write_bytes((tmp_path / "b.idx").read_bytes()[:-5])
    with pytest.raises(SeqartError, match="b.idx: IDX header says"):
        read_idx(tmp_path / "b.idx")
    (tmp_path / "c.idx").write_bytes(bytes([0, 0, 0x0D, 3]) + bytes(12))  # floats: not what seqart reads
    with pytest.raises(SeqartError, match="c.idx: IDX type 0x0d"):
        read_idx(tmp_path / "c.idx")


def test_binarisation_is_fixed_by_its_seed(tmp_path):
    write_idx(digits(), tmp_path / "d.idx")
    a = [c.frames for c in CanvasCodec({"size": 10}).read(tmp_path / "d.idx")["all"]]
    b = [c.frames for c in CanvasCodec({"size": 10}).read(tmp_path / "d.idx")["all"]]
    other = [c.frames for c in CanvasCodec({"size": 10, "binarize_seed": 1}).read(tmp_path / "d.idx")["all"]]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))  # the same bits in every epoch and run
    assert not all(np.array_equal(x, y) for x, y in zip(a, other))
    pixels = np.concatenate([f[:, 4:] for f in a])
    assert set(np.unique(pixels)) <= {0.0, 1.0} and pixels.sum() > 0
    grey = CanvasCodec({"size": 10, "binarize": "none"}).read(tmp_path / "d.idx")["all"][0]
    assert np.array_equal(grey.frames[0, 4:], np.rint(digits()[0].reshape(-1) * 255) / 255)
    thr = CanvasCodec({"size": 10, "binarize": "threshold", "threshold": 0.5}).read(tmp_path / "d.idx")["all"][0]
    assert np.array_equal(thr.frames[0, 4:], (np.rint(digits()[0] * 255) / 255 >= 0.5).reshape(-1))


def test_pictures_are_greyed_resized_and_inverted_to_ink_on_black(tmp_path):
    im = Image.new("RGB", (40, 40), "white")
    ImageDraw.Draw(im).rectangle((0, 20, 19, 39), fill="black")  # dark ink, lower-left quarter
    im.save(tmp_path / "one.png")
    im.save(tmp_path / "two.jpg", quality=95)
    codec = codec_for_path(tmp_path)
    assert isinstance(codec, CanvasCodec)
    codec = CanvasCodec({"size": 8, "binarize": "threshold"})
    clips = codec.read(tmp_path)["all"]
    assert [c.meta["source"] for c in clips] == ["one.png", "two.jpg"]
    for c in clips:
        img = c.frames[0, 4:].reshape(8, 8)
        assert img[4:, :4].min() == 1.0 and img[:4].max() == 0.0 and img[:, 4:].max() == 0.0
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(SeqartError, match="bad.png: not a readable image"):
        codec.read(tmp_path)


def test_drawings_are_rasterised_and_keep_their_split():
    codec = CanvasCodec({"size": 16, "binarize": "none"})
    splits = codec.read(SHEEP)
    assert set(splits) == {"train", "valid", "test"} and all(splits.values())
    img = splits["train"][0].frames[0, 4:].reshape(16, 16)
    assert 0.05 < (img > 0).mean() < 0.8  # lines drawn, paper left over
    assert img[:, :1].max() == 0 and img[:1].max() == 0  # margins stay empty or nearly
    assert codec.to_model(splits["train"][0]).shape == (1, 256)


def test_bad_options_are_one_line_errors():
    with pytest.raises(SeqartError, match="unknown canvas option"):
        CanvasCodec({"colour": 1})
    with pytest.raises(SeqartError, match="codec.binarize = 'maybe'"):
        CanvasCodec({"binarize": "maybe"})
    with pytest.raises(SeqartError, match="codec.size = 2"):
        CanvasCodec({"size": 2})
