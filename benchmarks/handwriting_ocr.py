"""Handwriting legibility: Tesseract's character error rate on held-out phrases written by a model.

Each of N held-out phrases (the ones `seqart make-handwriting --seed 0` keeps out
of training) is written by the model at every bias b (temperature 1, seed = the
phrase's index), rendered to a PNG and read by Tesseract
(`seqart.quality.legibility.READER`: fixed scale, a fixed band about the body,
the line's slant sheared to the font's, raw-line mode). The CER is total edits
over total characters meant. Two references, read the same way:

* `font`: the phrase in the plain Hershey script font (no slant, jitter, wobble):
  the ceiling;
* `data`: the phrase as the synthetic set writes it (`write_set`, seed 1: the
  held-out test lines), with the per-line slant, size, spacing and jitter the
  model was trained on.

    .venv/bin/python benchmarks/handwriting_ocr.py --run runs/hand          # 100 phrases x 4 biases
    .venv/bin/python benchmarks/handwriting_ocr.py --run runs/hand --quick  # 3 phrases, b = 0 and 2
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.handwriting.corpus import heldout_phrases
from seqart.codecs.handwriting.synthetic import write_set
from seqart.handwrite import write_line
from seqart.quality import legibility as L

BIASES = (0.0, 0.5, 1.0, 2.0)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="a handwriting run or model folder (or a shipped name)")
    p.add_argument("--phrases", type=int, default=100, help="how many held-out phrases")
    p.add_argument("--quick", action="store_true", help="3 phrases, biases 0 and 2 (smoke test)")
    p.add_argument("--keep", help="a folder to keep every PNG and what Tesseract read in")
    p.add_argument("--data", help="ignored (the phrases are the synthetic set's held-out ones)")
    p.add_argument("--out", help="where to write the JSON (default benchmarks/results/handwriting_ocr.json)")
    a = p.parse_args(argv)
    a.biases = (0.0, 2.0) if a.quick else BIASES
    a.phrases = 3 if a.quick else a.phrases
    return a


def read_all(clips, folder: Path, tag: str, program: str) -> dict:
    """Render and OCR each clip (meta["text"] = what it means): CER, and every line's reading."""
    pairs = L.read_lines(clips, folder, tag, program=program)
    lines = [{"meant": meant, "read": got, "edits": L.edits(got, meant), "points": len(c) - 1}
             for (got, meant), c in zip(pairs, clips)]
    return {"cer": round(L.cer(pairs), 4), "exact_lines": sum(x["edits"] == 0 for x in lines),
            "points_per_char": round(sum(x["points"] for x in lines) / sum(len(m) for _, m in pairs), 2),
            "lines": lines}


def main(argv=None) -> None:
    a = parse_args(argv)
    result = _common.header("handwriting_ocr")
    program = L.tesseract_program()
    phrases = heldout_phrases(a.phrases, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        write_set(Path(tmp) / "data", len(phrases), seed=1, heldout=0, phrases=phrases)
        data = HandwritingCodec().read(Path(tmp) / "data")["all"]
        by_text = {c.meta["text"]: c for c in data}
        refs = {"font": read_all([L.font_line(p) for p in phrases], folder, "font", program),
                "data": read_all([by_text[p] for p in phrases], folder, "data", program)}
        written = {}
        for b in a.biases:
            clips = [write_line(a.run, p, bias=b, temperature=1.0, seed=i) for i, p in enumerate(phrases)]
            written[f"b={b:g}"] = read_all(clips, folder, f"b{b:g}", program)
    best = min(written, key=lambda k: written[k]["cer"])
    result |= {"config": {"run": a.run, "phrases": len(phrases), "biases": list(a.biases), "temperature": 1.0,
                          "render": asdict(L.READER), "data": "held-out phrases, seed 0",
                          "tesseract": program + " -l eng --psm " + " (where that reads nothing: --psm ".join(L.READER.psms)
                                       + ")" * (len(L.READER.psms) - 1)},
               "target": "CER <= 0.10 at some b <= 1",
               "cer": {k: v["cer"] for k, v in written.items()} | {"font (ceiling)": refs["font"]["cer"],
                                                                  "data (training hand)": refs["data"]["cer"]},
               "best": best, "median_line_edits": {k: float(np.median([x["edits"] for x in v["lines"]]))
                                                   for k, v in (written | refs).items()},
               "written": written, "references": refs, "loadavg_end": _common.loadavg()}
    _common.emit("handwriting_ocr", result, a.out)


if __name__ == "__main__":
    main()
