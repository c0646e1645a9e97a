"""How to draw a line for Tesseract: CER of the references under each reader setting, one change at a time.

Only the two references are read here, never a model's lines: the 100 held-out
phrases in the plain Hershey script font (`font`) and as the synthetic set
writes them (`data`: seed 1, per-line slant, size, spacing, jitter). Each row
starts from `legibility.READER` (the setting `handwriting_ocr.py` uses) and
changes one thing; `before` is the earlier reader's scale, pen and page modes
(0.315 px a unit, a 7.9 px pen, the ink's own box, psm 7 then 13, no shear).
No word list is given to Tesseract.

    .venv/bin/python benchmarks/handwriting_ocr_setup.py --jobs 2          # 100 phrases x 14 rows: ~15 min
    .venv/bin/python benchmarks/handwriting_ocr_setup.py --phrases 5 --rows reader,no_band
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from seqart.codecs.handwriting import HandwritingCodec
from seqart.codecs.handwriting.corpus import heldout_phrases
from seqart.codecs.handwriting.synthetic import write_set
from seqart.quality import legibility as L

R = L.READER
ROWS = {
    "reader": R,
    "before": replace(R, px_per_unit=0.315, pen_px=7.9, band=None, deslant_to=None, blur_px=0.0, psms=("7", "13")),
    "no_band": replace(R, band=None),  # the ink's own box plus the margin all round
    "band_2.4_2.0": replace(R, band=(2.4, 2.0)),
    "band_2.2_2.2": replace(R, band=(2.2, 2.2)),
    "band_3_3": replace(R, band=(3.0, 3.0)),
    "psm_7_then_13": replace(R, psms=("7", "13")),
    "no_shear": replace(R, deslant_to=None),
    "shear_upright": replace(R, deslant_to=0.0),
    "no_blur": replace(R, blur_px=0.0),
    "pen_3": replace(R, pen_px=3.0),
    "pen_7": replace(R, pen_px=7.0),
    "scale_0.18": replace(R, px_per_unit=0.18, pen_px=R.pen_px * 0.18 / R.px_per_unit),
    "scale_0.35": replace(R, px_per_unit=0.35, pen_px=R.pen_px * 0.35 / R.px_per_unit),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phrases", type=int, default=100, help="how many held-out phrases")
    p.add_argument("--rows", default=",".join(ROWS), help="which settings, comma-separated (default: all)")
    p.add_argument("--jobs", type=int, default=1, help="Tesseract calls at once (each one thread)")
    p.add_argument("--out", help="where to write the JSON (default benchmarks/results/handwriting_ocr_setup.json)")
    a = p.parse_args(argv)
    a.rows = [r for r in a.rows.split(",") if r]
    unknown = [r for r in a.rows if r not in ROWS]
    if unknown:
        p.error(f"--rows: unknown {', '.join(unknown)} (known: {', '.join(ROWS)})")
    return a


def read_set(clips, setup: L.Setup, folder: Path, jobs: int, program: str) -> dict:
    """CER of one set of lines under one setting, and the lines Tesseract got wrong."""
    pairs = L.read_lines(clips, folder, "line", setup, program, jobs)
    return {"cer": round(L.cer(pairs), 4), "exact_lines": sum(r == m for r, m in pairs),
            "wrong": [{"meant": m, "read": r} for r, m in pairs if r != m]}


def main(argv=None) -> None:
    a = parse_args(argv)
    result = _common.header("handwriting_ocr_setup")
    program = L.tesseract_program()
    phrases = heldout_phrases(a.phrases, seed=0)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_set(Path(tmp) / "data", len(phrases), seed=1, heldout=0, phrases=phrases)
        by_text = {c.meta["text"]: c for c in HandwritingCodec().read(Path(tmp) / "data")["all"]}
        sets = {"font": [L.font_line(p) for p in phrases], "data": [by_text[p] for p in phrases]}
        for name in a.rows:
            rows[name] = {"setup": asdict(ROWS[name])}
            for s, clips in sets.items():
                rows[name][s] = read_set(clips, ROWS[name], Path(tmp), a.jobs, program)
    result |= {"config": {"phrases": len(phrases), "tesseract": program + " -l eng --psm <psms in turn>",
                          "references": "held-out phrases (seed 0): plain script font; synthetic set seed 1"},
               "cer": {k: {"font": v["font"]["cer"], "data": v["data"]["cer"]} for k, v in rows.items()},
               "rows": rows, "loadavg_end": _common.loadavg()}
    _common.emit("handwriting_ocr_setup", result, a.out)


if __name__ == "__main__":
    main()
