"""Handwriting: pen strokes with the text they write (Graves 2013, section 5).

A handwriting clip is a stroke clip (`codecs.strokes`: channels dx, dy, pen;
one end frame) whose `meta["text"]` holds its transcript. The codec reads:

* IAM-OnDB's own files (`formats.iam_ondb`): a folder with lineStrokes `.xml`
  and ascii `.txt`, which is also the layout of seqart's synthetic set
  (`synthetic.write_set`, `seqart make-handwriting`);
* an artist's own lines (`formats.own_hand`): `.svg` or `.ndjson` with a `.txt`
  of the same name beside each (or the SVG's `<title>`).

Text in model space: the model-space array gains one last column, `char`,
holding the transcript's character indices (1-based into the `alphabet`
option; 0 = none) in its first U rows, U = the transcript's length, which is
far below the line's points. So batches, padding and the one trainer carry the
text unchanged; the windowed model (`seqart.window`) reads the column, every
other part of the house ignores it. The alphabet also travels in the layout
(`Layout.extra["alphabet"]`), so the model's one-hot width and every checkpoint
JSON hold it.

Lines are trained whole: the soft window always starts at the first
character, so a window cut from the middle of a line would be paired with the
wrong text. `to_model` refuses a clip shorter or longer than the line it was
read as (`meta["points"]`); set `train.max_len = 0` (or at least the longest
line) for handwriting.

Units: a model learns its training data's units (tablet units for IAM-OnDB
and the synthetic set). Fine-tuning on lines in other units (an artist's SVG
px) sets `rescale` so the new lines' offsets spread as the model's training
data did (`fit_data`); the model's space, and so its normalisation, stay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.codecs import register
from seqart.codecs.base import Norm
from seqart.codecs.strokes import CHANNELS, DEFAULTS as STROKE_DEFAULTS, LAYOUT, StrokesCodec
from seqart.codecs.handwriting import settings as declared
from seqart.errors import SeqartError
from seqart.layout import Layout

ASCII = "".join(chr(c) for c in range(32, 127))  # printable ASCII: what IAM-OnDB and the Hershey fonts hold
DEFAULTS = STROKE_DEFAULTS | {
    "alphabet": ASCII,  # the characters a transcript may hold, in one-hot order
    "rdp_epsilon": 0.0,  # IAM-OnDB's points are kept as recorded (Graves 2013 did the same)
    "drop_prob": 0.0,  # dropping points would change the pace the window learns
    "rescale": 1.0,  # factor on the offsets read; a fine-tune fits it (fit_data), from scratch it stays 1
}


@register
class HandwritingCodec(StrokesCodec):
    modality = "handwriting"
    suffixes = ()  # recognised by `claims` (line files, transcripts), not by a suffix alone
    writer_modules = ("seqart.codecs.handwriting.writers",)  # the strokes writers, for handwriting clips
    training_options = StrokesCodec.training_options
    settings = tuple(declared.OPTIONS)  # seqart/codecs/handwriting/settings.py
    defaults = DEFAULTS
    generation_settings = tuple(declared.GENERATION)

    def __init__(self, options: dict | None = None, norm: Norm | None = None):
        opts = self.with_defaults(options)
        a = opts["alphabet"]
        if not isinstance(a, str) or not a or len(set(a)) != len(a):
            raise SeqartError(f"codec.alphabet = {a!r}: must be a non-empty string of distinct characters")
        self.index = {ch: i + 1 for i, ch in enumerate(a)}  # 0 is "no character"
        super(StrokesCodec, self).__init__(opts, norm)

    @classmethod
    def claims(cls, path: Path) -> bool:
        """A folder (or file) of handwriting: IAM-OnDB line files (`<form>-NN.xml`), or drawings with a
        transcript beside each."""
        path = Path(path)
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        from seqart.formats.iam_ondb import is_line_file

        if any(is_line_file(f) for f in files):
            return True
        drawings = [f for f in files if f.suffix.lower() in (".svg", ".ndjson")]
        return bool(drawings) and all(f.with_suffix(".txt").is_file() for f in drawings)

    @property
    def layout(self) -> Layout:
        return Layout(CHANNELS, LAYOUT.mixtures, LAYOUT.categoricals, LAYOUT.end,
                      extra={"alphabet": self.options["alphabet"]})

    @property
    def alphabet(self) -> str:
        return self.options["alphabet"]

    def encode_text(self, text: str, source="text") -> np.ndarray:
        """Transcript -> (U,) int64 1-based indices; unknown characters are an error naming them."""
        if not text:
            raise SeqartError(f"{source}: empty text")
        bad = sorted({ch for ch in text if ch not in self.index})
        if bad:
            raise SeqartError(f"{source}: character(s) {''.join(bad)!r} not in the model's alphabet "
                              f"({len(self.index)} characters: {self.alphabet!r})")
        return np.array([self.index[ch] for ch in text], np.int64)

    def read(self, path: Path) -> dict[str, list[Clip]]:
        from seqart.formats import iam_ondb, own_hand

        path = Path(path)
        if not path.exists():
            raise SeqartError(f"{path}: no such file or folder")
        files = [path] if path.is_file() else list(path.rglob("*.xml"))
        reader = iam_ondb.read_folder if files and all(f.suffix.lower() == ".xml" for f in files) else own_hand.read_folder
        clips = []
        for c in reader(path, self.options):
            src = c.meta.get("source", path)
            self.check_clip(c, src)
            codes = self.encode_text(c.meta.get("text", ""), f"{src}: transcript")
            if len(codes) >= len(c):
                raise SeqartError(f"{src}: {len(codes)} characters but only {len(c)} points")
            clips.append(c.with_frames(c.frames, modality=self.modality, meta=c.meta | {"points": len(c)}))
        return {"all": clips}

    def configure_sampler(self, sampler, options: dict) -> None:
        """Generation option `text`: what a text-conditioned model writes (`seqart sample --set text=...`)."""
        options = dict(options)
        text = options.pop("text", None)
        super().configure_sampler(sampler, options)
        if text is not None:
            sampler.set_text(" ".join(str(text).split()))

    def fit_norm(self, clips: list[Clip]) -> None:
        self.options["rescale"] = 1.0  # from scratch the model takes the data's own units
        super().fit_norm(clips)

    def fit_data(self, clips: list[Clip]) -> None:
        """Fine-tuning: scale the new lines' offsets to the spread of the model's training data."""
        self.options["rescale"] = 1.0
        x = self._continuous(clips)
        spread = float(x.std()) if x.size else 0.0
        if spread > 1e-9:
            self.options["rescale"] = float(self.norm.scale[0]) / spread

    def augment(self, clip: Clip, rng: np.random.Generator) -> Clip:
        out = super().augment(clip, rng)
        return out.with_frames(out.frames, meta=out.meta | {"points": len(out)})

    def to_model(self, clip: Clip) -> np.ndarray:
        """Clip -> (T, 4): dx, dy (normalised), pen class, and the `char` column (module doc)."""
        r = float(self.options["rescale"])
        if r != 1.0:
            f = clip.frames.copy()
            f[:, :2] *= r
            clip = clip.with_frames(f)
        x = super().to_model(clip)
        text = clip.meta.get("text")
        if text is None:  # a generated or primer clip without text: no characters
            return np.concatenate([x, np.zeros((len(x), 1), np.float32)], 1)
        if len(clip) != clip.meta.get("points", len(clip)):
            raise SeqartError(f"{clip.meta.get('source', 'a line')}: handwriting lines are trained whole, but this "
                              f"one was cut to {len(clip)} of {clip.meta['points']} points; set train.max_len = 0")
        codes = self.encode_text(text, clip.meta.get("source", "text"))
        col = np.zeros((len(x), 1), np.float32)
        col[: len(codes), 0] = codes
        return np.concatenate([x, col], 1)
