"""Every hostile input from issue 12, through the real command: exit 2, one line, no traceback,
within a time and memory budget, nothing written.

Each case runs `seqart` in a forked child under RLIMIT_AS and a kill timer (fuzz_cli.py).
Where refusing at the default limit would first need a big file, a lowered limit (the
setting the error line names) stands in, so every case fails fast; the benchmark
(benchmarks/readers_scaling.py) shows the readers stay linear up to the defaults.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

import hostile as h
from fuzz_cli import TRAIN_FAST, assert_refused, seqart_run

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 30.0  # per case, generous for a shared CI machine; the children take ~1 s


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def train(files: Path, data, *extra, env=None, mem_mb=1024):
    out = files / f"run_{Path(data).name}"
    run = seqart_run("train", data, "--out", out, *TRAIN_FAST, *extra, env=env, mem_mb=mem_mb, seconds=BUDGET_S * 2)
    return run, out


# --- the cases, (maker, env, needles) ------------------------------------------------------------
CASES = {
    "npz object array repeating one shared list": (h.npz_shared_list, {}, ["shared_list.npz", "not an (N, 3)"]),
    "npz object array repeating one shared array": (h.npz_shared_array, {}, ["SEQART_MAX_FILE_POINTS"]),
    "npz zip bomb": (lambda d: h.npz_bomb(d, 48), {"SEQART_MAX_NPZ_MB": "16"}, ["bomb.npz", "SEQART_MAX_NPZ_MB"]),
    "npz bomb whose headers lie": (lambda d: h.npz_lying_sizes(d, 48), {"SEQART_MAX_NPZ_MB": "16"}, ["lying.npz"]),
    "svg path with 1e308 coordinates": (h.svg_huge_coordinates, {}, ["huge.svg", "SEQART_MAX_COORDINATE"]),
    "svg of nested <use>": (h.svg_nested_use, {}, ["nested_use.svg", "SEQART_MAX_SVG_ELEMENTS"]),
    "svg <use> loop": (h.svg_use_loop, {}, ["use_loop.svg", "loop"]),
    "svg nested 5000 groups deep": (h.svg_deep_groups, {}, ["deep_groups.svg", "SEQART_MAX_DEPTH"]),
    "svg of 20,000 long curves": (h.svg_many_curves, {}, ["many_curves.svg", "SEQART_MAX_POINTS"]),
    "midi with 10^6 overlapping notes of one pitch": (h.midi_overlapping, {}, ["overlapping.mid", "SEQART_MAX_NOTES"]),
    "midi with tempo 0": (h.midi_tempo, {}, ["tempo0.mid", "tempo 0"]),
    "bvh with 10,000 joints": (h.bvh_star, {}, ["star.bvh", "SEQART_MAX_JOINTS"]),
    "bvh with a chain 3,000 deep": (h.bvh_chain, {}, ["chain.bvh", "SEQART_MAX_JOINTS"]),
    "ndjson stroke of 10^6 points": (h.ndjson_long_stroke, {}, ["long_stroke.ndjson", "SEQART_MAX_STROKE_POINTS"]),
    "ndjson nested 100,000 deep": (h.ndjson_deep, {}, ["deep.ndjson", "nested too deeply"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_in_one_line(files, case):
    maker, env, needles = CASES[case]
    path = maker(files)
    run, out = train(files, path, env=env)
    assert_refused(run, *needles, out=out, budget_s=BUDGET_S)


def test_svg_shape_svgelements_cannot_draw(files):
    """Found by test_fuzz_readers: a rect under scale(1e308) made svgelements raise a bare ValueError."""
    path = files / "scaled.svg"
    path.write_text(h.SVG_HEAD + '<g transform="scale(1e308)"><rect width="1e308" height="1"/></g></svg>')
    run, out = train(files, path)
    assert_refused(run, "scaled.svg", out=out, budget_s=BUDGET_S)


def test_npz_values_that_are_not_a_drawing(files):
    big = np.iinfo(np.int64).max
    for name, rows, needle in [("int64_max", [[big, 0, 0], [1, 1, 1]], "SEQART_MAX_COORDINATE"),
                               ("int64_min", [[np.iinfo(np.int64).min, 0, 1]], "SEQART_MAX_COORDINATE"),
                               ("negative_pen", [[1, 1, -1], [2, 2, 1]], "pen value -1"),
                               ("pen_two", [[1, 1, 2]], "pen value 2"),
                               ("bool_rows", np.ones((3, 3), bool), "not an (N, 3) stroke-3 array of numbers")]:
        path = h.npz_values(files, name, rows)
        run, out = train(files, path)
        assert_refused(run, path.name, needle, out=out, budget_s=BUDGET_S)


def test_json_true_is_not_a_coordinate_nor_a_pitch(files):
    nd = files / "true.ndjson"
    nd.write_text('{"drawing": [[[0, true, 2], [0, 1, 2]]]}\n')
    run, out = train(files, nd)
    assert_refused(run, "true.ndjson", "line 1", "number lists", out=out)
    jsb = files / "true_jsb.json"
    jsb.write_text('{"train": [[[60, true], [62]]]}')
    run, out = train(files, jsb)
    assert_refused(run, "pitch True", out=out)


def test_only_regular_files_are_read(files):
    fifo = files / "pipe.ndjson"
    os.mkfifo(fifo)
    zero = files / "zero.npz"
    zero.symlink_to("/dev/zero")
    huge = files / "huge.ndjson"
    with open(huge, "wb") as f:  # sparse: 600 MiB on paper, nothing on disk
        f.truncate(600 * 2**20)
    for path, needle in [(fifo, "a FIFO"), (zero, "a device"), (huge, "SEQART_MAX_FILE_MB")]:
        run, out = train(files, path, mem_mb=512)
        assert_refused(run, path.name, needle, out=out, budget_s=BUDGET_S)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still there, never opened for good


def test_prime_and_config_must_be_regular_files(files, tmp_path):
    fifo = files / "prime.mid"
    if not fifo.exists():
        os.mkfifo(fifo)
    out = tmp_path / "tune.mid"
    run = seqart_run("sample", "nottingham", "--out", out, "--prime", fifo, "--seconds", "2", seconds=BUDGET_S)
    assert_refused(run, "prime.mid", "a FIFO", out=out, budget_s=BUDGET_S)
    run, out = train(files, ROOT / "datasets" / "sketches" / "hershey", "--config", tmp_path)
    assert_refused(run, str(tmp_path), "is a folder", out=out)


def test_deep_toml_and_json_settings(files, tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text(h.deep_toml())
    run, out = train(files, ROOT / "datasets" / "sketches" / "hershey", "--config", deep)
    assert_refused(run, "deep.toml", out=out)
    piece = tmp_path / "deep_piece.toml"
    piece.write_text("[render]\nout = " + "[" * 50_000 + "]" * 50_000 + "\n")
    run = seqart_run("render", piece, "--out-dir", tmp_path / "rendered")
    assert_refused(run, "deep_piece.toml", out=tmp_path / "rendered")


def test_model_folder_without_weights(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text((ROOT / "seqart" / "models" / "sheep" / "model.json").read_text())
    run = seqart_run("sample", model, "--out", tmp_path / "s.svg")
    assert_refused(run, "missing model.safetensors", out=tmp_path / "s.svg")


def test_model_json_values_are_checked(tmp_path):
    import json
    import shutil

    src = ROOT / "seqart" / "models" / "sheep"
    for name, change, needle in [("hidden_true", {"hidden": True}, "whole number"),
                                 ("hidden_huge", {"hidden": 65536}, "weights stored"),
                                 ("scale_nan", "nan", "norm")]:
        model = tmp_path / name
        shutil.copytree(src, model)
        meta = json.loads((model / "model.json").read_text())
        if change == "nan":
            meta["codec"]["norm"]["scale"][0] = float("nan")
        else:
            meta["model"].update(change)
        (model / "model.json").write_text(json.dumps(meta))
        run = seqart_run("sample", model, "--out", tmp_path / f"{name}.svg")
        assert_refused(run, needle, out=tmp_path / f"{name}.svg")


@pytest.mark.parametrize("setting", ["codec.rate=0", "codec.rdp_epsilon=nan", "codec.drop_prob=2",
                                     "codec.scale_aug=-1", "codec.rate=true", "codec.dequantise=inf"])
def test_codec_settings_out_of_range(files, setting):
    run, out = train(files, ROOT / "datasets" / "sketches" / "hershey", "--set", setting)
    assert_refused(run, setting.split("=")[0], out=out)


@pytest.mark.parametrize("args,needle", [
    (["salsa", "--out", "{d}/dance.gif", "--seconds", "0.5", "--set", "export.fps=-1"], "export.fps"),
    (["sheep", "--out", "{d}/s.svg", "--set", "export.margin_mm=nan"], "export.margin_mm"),
    (["sheep", "--out", "{d}/s.png", "--set", "export.dpi=1e9"], "export.dpi"),
    (["sheep", "--out", "{d}/s.svg", "--set", "export.animate=3"], "export.animate"),
])
def test_export_settings_out_of_range(tmp_path, args, needle):
    args = [a.format(d=tmp_path) for a in args]
    run = seqart_run("sample", *args, seconds=BUDGET_S * 2)
    assert_refused(run, needle, out=Path(args[2]))


@pytest.mark.parametrize("setting", ["render.scale=nan", "render.origin=[1e400, 0]", "render.midi_channel=0"])
def test_piece_settings_out_of_range(setting):
    run = seqart_run("perform", ROOT / "pieces" / "drawing_machine.toml", "--set", setting, "--duration", "1")
    assert_refused(run, setting.split("=")[0])


def test_no_numpy_warnings_before_the_line(files):
    path = h.npz_values(files, "huge_float", np.array([[1e300, 1e300, 0], [-1e300, 1, 1]]))
    run, out = train(files, path)
    assert_refused(run, "SEQART_MAX_COORDINATE", out=out)
    assert "Warning" not in run.stderr


def test_tempo_0_is_skipped_in_a_folder(tmp_path):
    from seqart.formats.midi_in import read_midi_folder

    h.midi_tempo(tmp_path, 0)
    h.midi_tempo(tmp_path, 500000)
    items, report = read_midi_folder(tmp_path)
    assert report["read"] == 1 and report["skipped"] == 1 and "tempo N at tick N" in "".join(report["why"])


def test_overlapping_notes_pair_first_in_first_out(tmp_path):
    from seqart.formats.midi_in import parse_instruments, _load

    path = h.midi_overlapping(tmp_path, 20_000)  # linear now: a list's pop(0) made this quadratic
    notes = parse_instruments(_load(path))[0][0]["notes"]
    assert len(notes) == 20_000
    assert np.allclose(notes[:, 1], notes[0, 1]) and notes[0, 1] > 0  # each held from its on to the matching off


def test_deep_skeletons_read_and_write_without_recursion(tmp_path, monkeypatch):
    from seqart.formats.bvh import bvh_text, read_bvh

    monkeypatch.setenv("SEQART_MAX_JOINTS", "20000")
    for path in (h.bvh_chain(tmp_path, 3000), h.bvh_star(tmp_path, 10_000)):
        motion = read_bvh(path)
        again = tmp_path / "again.bvh"
        again.write_text(bvh_text(motion))
        assert read_bvh(again).skeleton == motion.skeleton


def test_checkpoint_temp_folders_left_by_a_kill_are_removed(tmp_path):
    import torch

    from seqart import checkpoint

    stale = tmp_path / ".latest.tmpabc123"  # what a kill between mkdtemp and the rename leaves
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    checkpoint.save(tmp_path / "latest", {"model": {"w": torch.zeros(2)}}, {"model": {"step": 1}})
    assert not stale.exists() and (tmp_path / "latest" / "model.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["latest"]


def test_a_resumed_run_starts_by_removing_temp_folders(files, tmp_path):
    run_dir = tmp_path / "run"
    stale = run_dir / ".best.tmpdead01"
    stale.mkdir(parents=True)
    (stale / "model.json").write_text("{")
    run = seqart_run("train", ROOT / "datasets" / "sketches" / "hershey", "--out", run_dir, *TRAIN_FAST,
                     "--set", "train.init=nottingham")  # refused after the trainer started: nothing trains
    assert_refused(run, "train.init=nottingham", "cannot learn from")
    assert not stale.exists() and sorted(p.name for p in run_dir.iterdir()) == []


def test_declared_sizes_are_checked_before_inflating(tmp_path):
    """A zip that declares 2 GiB for a member is refused from its directory, nothing inflated."""
    path = tmp_path / "declares.npz"
    path.write_bytes(h.npz_bytes({"train": np.zeros((4, 3), np.int16)}))
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = struct.pack("<I", 2 * 2**30)  # the central directory's uncompressed size
    path.write_bytes(bytes(data))
    run = seqart_run("train", path, "--out", tmp_path / "run", *TRAIN_FAST, mem_mb=256)
    assert_refused(run, "declare", "SEQART_MAX_NPZ_MB", out=tmp_path / "run")


def test_images_refuse_gzip_bombs_and_fifos(tmp_path, monkeypatch):
    import gzip

    from seqart.errors import SeqartError
    from seqart.formats.images import read_idx, read_picture

    bomb = tmp_path / "digits.idx.gz"  # 8 MiB of images from ~8 KiB
    bomb.write_bytes(gzip.compress(b"\0\0\x08\x03" + struct.pack(">3I", 800, 100, 105) + bytes(800 * 100 * 105)))
    monkeypatch.setenv("SEQART_MAX_FILE_MB", "1")
    with pytest.raises(SeqartError, match="digits.idx.gz: inflates past the limit of 1 MiB.*SEQART_MAX_FILE_MB"):
        read_idx(bomb)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(SeqartError, match="pipe.png: is a FIFO"):
        read_picture(fifo, (28, 28))
