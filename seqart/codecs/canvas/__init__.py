"""The canvas modality: images for DRAW, and the canvases DRAW paints over its T steps.

A canvas clip is a sequence of frames; each frame is a canvas and the window that
last wrote to it:

    channels  x, y       write window's centre, pixels from the image's top-left corner (0..W, 0..H)
              stride     distance between neighbouring write filters, pixels
              sigma      the filters' standard deviation, pixels
              p0..p{HW-1} the canvas, row-major, grey in [0, 1] (ink = 1)

A generated clip has one frame per DRAW step (T frames, at `fps`); a data image is a
clip of one frame whose window is zero (no window made it). The model sees only the
last frame's pixels: `to_model` gives a (1, H*W) array, so the trainer's batches are
(B, 1, H*W) and every "frame" it counts is one image (scores are nats per image).

Data (`read`): a PNG/JPEG file or a folder of them, an IDX file (MNIST's format,
`*.idx`, `*-idx3-ubyte`, optionally `.gz`), or, with `seqart train --modality canvas`,
any drawing seqart reads (sketch-rnn `.npz`, `.ndjson`, `.svg`, Hershey `.jhf`),
rasterised. Binarisation (for a Bernoulli model) is done once when the data is read:
"threshold" at `threshold`, or "stochastic" (pixel = 1 with its grey level's odds, as
binarised MNIST) from a generator seeded by `binarize_seed` and the file's name, so the
same data gives the same bits in every epoch, in `eval` and on every machine.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.codecs import register
from seqart.codecs.base import Codec, Norm
from seqart.codecs.canvas import settings as declared
from seqart.errors import SeqartError
from seqart.formats import images
from seqart.layout import Layout

WINDOW = ("x", "y", "stride", "sigma")
PICTURES = (".png", ".jpg", ".jpeg")
IDX = (".idx", "-idx3-ubyte", ".idx.gz", "-idx3-ubyte.gz")
DRAWINGS = (".npz", ".ndjson", ".svg", ".jhf")
DEFAULTS = {
    "size": 28,  # images are size x size pixels (resized on reading)
    "binarize": "stochastic",  # "stochastic", "threshold" or "none" (grey, for model.likelihood = logistic)
    "threshold": 0.5,  # for binarize = threshold
    "binarize_seed": 0,  # for binarize = stochastic: fixed, so every epoch sees the same bits
    "invert": "auto",  # pictures: "auto" (light background -> inverted), "yes" or "no"
    "line_width": 1.5,  # rasterised drawings: pen width in pixels
    "fps": 16.0,  # DRAW steps per second when animated or played live
}


def pixel_channels(n: int) -> tuple[str, ...]:
    return tuple(f"p{i}" for i in range(n))


@register
class CanvasCodec(Codec):
    modality = "canvas"
    writer_modules = ("seqart.codecs.canvas.writers",)
    family = "draw"  # seqart.family: images train DRAW
    primable = False  # DRAW paints from an empty canvas
    suffixes = PICTURES + IDX
    training_options = ("binarize", "threshold", "binarize_seed", "invert", "line_width")
    settings = tuple(declared.OPTIONS)  # seqart/codecs/canvas/settings.py
    defaults = DEFAULTS

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        super().__init__(self.with_defaults(options), norm)

    # --- layout: pixels and a window, no MDN head ------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        s = int(self.options["size"])
        return s, s

    @property
    def channels(self) -> tuple[str, ...]:
        h, w = self.size
        return WINDOW + pixel_channels(h * w)

    @property
    def layout(self) -> Layout:
        return Layout(())  # DRAW has no mixture head; its clips' channels are `channels`

    def clip_defaults(self) -> dict:
        return {"fps": float(self.options["fps"])}

    def fit_norm(self, clips: list[Clip]) -> None:
        """Pixels stay in [0, 1]: nothing to fit."""

    # --- model space -------------------------------------------------------------------------
    def to_model(self, clip: Clip) -> np.ndarray:
        """The last frame's canvas, (1, H*W)."""
        return clip.frames[-1:, len(WINDOW):].astype(np.float32)

    def image_clip(self, image: np.ndarray, **meta) -> Clip:
        """(H, W) in [0, 1] -> a one-frame clip with no window."""
        frame = np.concatenate([np.zeros(len(WINDOW), np.float32), image.reshape(-1).astype(np.float32)])
        return Clip(frame[None], self.channels, self.modality, **self.clip_defaults(), meta=meta)

    def frames_clip(self, canvases: np.ndarray, windows: np.ndarray, **meta) -> Clip:
        """(T, H, W) canvases and (T, 4) windows -> a T-frame clip."""
        frames = np.concatenate([windows.astype(np.float32), canvases.reshape(len(canvases), -1)], 1)
        return Clip(frames, self.channels, self.modality, **self.clip_defaults(), meta=meta)

    # --- data ----------------------------------------------------------------------------------
    def read(self, path: Path) -> dict[str, list[Clip]]:
        """Images as one-frame clips, by split when the data has its own (sketch-rnn .npz)."""
        path = Path(path)
        if not path.exists():
            raise SeqartError(f"{path}: no such file or folder")
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        if any(_ends(f, DRAWINGS) for f in files) and not any(_ends(f, PICTURES + IDX) for f in files):
            return self._read_drawings(path)
        out: list[Clip] = []
        for f in files:
            if _ends(f, IDX):
                arrays = images.read_idx(f)
                if arrays.shape[1:] != self.size:
                    arrays = np.stack([_resize(a, self.size) for a in arrays])
            elif _ends(f, PICTURES):
                arrays = images.read_picture(f, self.size, self.options["invert"])[None]
            else:
                continue
            bits = self._binarize(arrays, f.name)
            group = str(f.relative_to(path)) if path.is_dir() else f.name
            out += [self.image_clip(a, source=group, group=group, index=i) for i, a in enumerate(bits)]
        if not out:
            raise SeqartError(f"{path}: no images (expected {', '.join(PICTURES + IDX)})")
        return {"all": out}

    def _read_drawings(self, path: Path) -> dict[str, list[Clip]]:
        from seqart.codecs.strokes import StrokesCodec, clip_to_stroke3, stroke3_to_strokes

        lw = float(self.options["line_width"])
        out: dict[str, list[Clip]] = {}
        for split, clips in StrokesCodec().read(path).items():
            pics = np.stack([images.rasterise(stroke3_to_strokes(clip_to_stroke3(c)), self.size, lw) for c in clips])
            bits = self._binarize(pics, f"{path.name}:{split}")
            out[split] = [self.image_clip(a, **c.meta) for a, c in zip(bits, clips)]
        return out

    def _binarize(self, x: np.ndarray, key: str) -> np.ndarray:
        """(N, H, W) grey -> the same, binarised as the options say (or quantised to 8 bits)."""
        how = self.options["binarize"]
        if how == "threshold":
            return (x >= float(self.options["threshold"])).astype(np.float32)
        if how == "stochastic":
            rng = np.random.default_rng([int(self.options["binarize_seed"]), zlib.crc32(key.encode())])
            return (rng.random(x.shape) < x).astype(np.float32)
        return np.rint(x * 255.0).astype(np.float32) / 255.0  # 8-bit levels for the discretised logistic

    def renderer(self, options: dict, prefix: str):
        from seqart.codecs.canvas.live import CanvasRenderer

        return CanvasRenderer(self, options, prefix)

    def check_clip(self, clip: Clip, source) -> None:
        super().check_clip(clip, source)
        if clip.frames.shape[1] != len(self.channels):
            raise SeqartError(f"{source}: a canvas of {clip.frames.shape[1] - len(WINDOW)} pixels, expected {self.size}")


def _ends(path: Path, endings: tuple[str, ...]) -> bool:
    return path.name.lower().endswith(endings)


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)).resize((size[1], size[0]), Image.Resampling.BOX)
    return np.asarray(im, np.float32) / 255.0
