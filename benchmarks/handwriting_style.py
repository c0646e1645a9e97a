"""Style priming: lines written after a style line lean like that style, not like the others.

Four hands (`STYLES`: fonts, slants and letter spacings from the synthetic
set's range) each write one primer line of the same text, saved as an IAM-OnDB
line. The model then writes N held-out phrases primed with each (`seqart write
--style`, Graves 2013 sec. 5.5), and N unprimed as a control. The statistic is
the slant (`seqart.quality.handwriting`: scale-free, drawn per line
independently of the text); each style's reference is the mean slant of the
same N phrases written in that hand by the synthetic set's own renderer. A
primed line counts as matched when its slant is nearer its own style's
reference than any other's (chance: 1 in 4; the hands' own lines, scored the
same way, give the ceiling: `data_matched_share`). Width per character is
reported the same way as a second statistic.

    .venv/bin/python benchmarks/handwriting_style.py --run runs/hand            # 4 x 20 primed lines
    .venv/bin/python benchmarks/handwriting_style.py --run runs/hand --quick    # 2 phrases
"""

from __future__ import annotations

import _common  # noqa: I001  (first: pins threads before torch loads)

import argparse
import tempfile
from pathlib import Path

import numpy as np

from seqart.codecs.handwriting.corpus import heldout_phrases
from seqart.codecs.handwriting.synthetic import Style, load_font, render_line
from seqart.formats.iam_ondb import write_form
from seqart.formats.sketches import drawing_clip
from seqart.handwrite import write_line
from seqart.quality.handwriting import slant, width_per_char

PRIMER = "the old man sat by the warm fire"
_HAND = {"size": 1.0, "word_space": 1.0, "wobble": 0.5, "wobble_period": 12.0, "wobble_phase": 0.0, "jitter": 0.1}
STYLES = {"upright": Style(font="scripts", slant=-0.05, spacing=0.0, **_HAND),
          "light": Style(font="cursive", slant=0.12, spacing=1.5, **_HAND),
          "leaning": Style(font="scripts", slant=0.28, spacing=0.5, **_HAND),
          "steep": Style(font="cursive", slant=0.45, spacing=2.5, **_HAND)}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="a handwriting run or model folder (or a shipped name)")
    p.add_argument("--phrases", type=int, default=20, help="held-out phrases written per style")
    p.add_argument("--bias", type=float, default=1.0, help="Graves' bias for every line")
    p.add_argument("--quick", action="store_true", help="2 phrases per style (smoke test)")
    p.add_argument("--data", help="ignored (the hands are drawn here from the Hershey fonts)")
    p.add_argument("--out", help="where to write the JSON (default benchmarks/results/handwriting_style.json)")
    a = p.parse_args(argv)
    a.phrases = 2 if a.quick else a.phrases
    return a


def in_hand(text: str, style: Style, seed: int):
    strokes = render_line(text, load_font(style.font), style, np.random.default_rng(seed))
    return strokes, drawing_clip(strokes, text, {}, source=text)


def stats(clips_texts) -> dict:
    return {"slant": [slant(c) for c, _ in clips_texts], "width_per_char": [width_per_char(c, t) for c, t in clips_texts]}


def nearest_share(values: dict[str, list[float]], refs: dict[str, float]) -> float:
    """Share of lines whose value is nearer their own style's reference than any other style's."""
    names, hits, n = list(refs), 0, 0
    for name, vs in values.items():
        for v in vs:
            if np.isfinite(v):
                hits += names[int(np.argmin([abs(v - refs[m]) for m in names]))] == name
            n += 1
    return hits / max(n, 1)


def main(argv=None) -> None:
    a = parse_args(argv)
    result = _common.header("handwriting_style")
    phrases = heldout_phrases(a.phrases, seed=0)
    refs = {name: stats([(in_hand(p, st, i)[1], p) for i, p in enumerate(phrases)]) for name, st in STYLES.items()}
    primed = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, st) in enumerate(STYLES.items()):
            write_form(Path(tmp), f"style{k}", [(in_hand(PRIMER, st, 100 + k)[0], PRIMER)])
            line = Path(tmp) / "lineStrokes" / f"style{k}" / f"style{k}-01.xml"
            written = [(write_line(a.run, p, bias=a.bias, seed=i, style=line, style_text=PRIMER), p)
                       for i, p in enumerate(phrases)]
            primed[name] = stats(written)
    plain = stats([(write_line(a.run, p, bias=a.bias, seed=i), p) for i, p in enumerate(phrases)])
    out = {}
    for stat in ("slant", "width_per_char"):
        ref = {n: float(np.nanmean(v[stat])) for n, v in refs.items()}
        got = {n: v[stat] for n, v in primed.items()}
        out[stat] = {"matched_share": round(nearest_share(got, ref), 3), "chance": 1 / len(STYLES),
                     "data_matched_share": round(nearest_share({n: v[stat] for n, v in refs.items()}, ref), 3),
                     "style_reference_mean": {n: round(v, 4) for n, v in ref.items()},
                     "primed_mean": {n: round(float(np.nanmean(v)), 4) for n, v in got.items()},
                     "primed_std": {n: round(float(np.nanstd(v)), 4) for n, v in got.items()},
                     "unprimed_mean": round(float(np.nanmean(plain[stat])), 4),
                     "unprimed_std": round(float(np.nanstd(plain[stat])), 4)}
    result |= {"config": {"run": a.run, "phrases_per_style": len(phrases), "bias": a.bias, "temperature": 1.0,
                          "primer": PRIMER, "styles": {n: vars(s) for n, s in STYLES.items()},
                          "data": "held-out phrases, seed 0"},
               "target": "primed lines nearer their own style's slant than any other's, well above chance",
               "units": "slant in radians (> 0: tops lean right); width per character: extent / ink height / chars",
               **out, "loadavg_end": _common.loadavg()}
    _common.emit("handwriting_style", result, a.out)


if __name__ == "__main__":
    main()
