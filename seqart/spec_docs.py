"""docs/settings.md from the one spec (seqart.spec) and the codecs' and writers' own option tables.

    python -m seqart.spec_docs            # rewrite docs/settings.md
A test checks that the file in the repository is what this prints, so the docs cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqart import spec

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
TITLES = {"train": "Training: [train]", "model": "Model: [model] (MDN-LSTM family)",
          "generate": "Generation: seqart sample flags, the Sampler, render pieces",
          "piece": "Live pieces: pieces/*.toml and seqart perform --set"}


def _cell(v) -> str:
    return "" if v is None else str(v).replace("|", "\\|")


def _table(settings: list[spec.Setting]) -> list[str]:
    rows = ["| setting | type | default | range | unit | what it does |", "|---|---|---|---|---|---|"]
    for s in settings:
        default = repr(s.default) if isinstance(s.default, str) else s.default
        rows.append(f"| `{s.name}` | {s.type.__name__} | {_cell(default)} | {_cell(s.range_text())} | {s.unit} | {_cell(s.help)} |")
    return rows


def _ranges(title: str, ranges: dict, defaults: dict) -> list[str]:
    rows = [f"### {title}", "", "| option | default | range |", "|---|---|---|"]
    for key, (lo, hi, lo_ok) in sorted(ranges.items()):
        rows.append(f"| `{key}` | {_cell(defaults.get(key))} | {'[' if lo_ok else '('}{lo:g}, {hi:g}] |")
    return rows + [""]


def settings_markdown() -> str:
    from seqart.codecs import codec_class, known_modalities
    from seqart.export import OPTION_RANGES

    out = ["# Settings", "", "Generated from `seqart/spec.py` by `python -m seqart.spec_docs`; do not edit by hand.",
           "Every setting is checked where it comes in (a TOML file, `--set`, a flag, an OSC message),",
           "with one line naming it when it is of the wrong type or out of range.", ""]
    for key, table in spec.SECTIONS.items():
        out += [f"## {TITLES[key]}", ""] + _table(table) + [""]
    out += ["## OSC control messages that carry a number", "", "| address | range | unit |", "|---|---|---|"]
    out += [f"| `/seqart{a}` | {q.range_text()} | {q.unit} |" for a, q in spec.OSC_NUMBERS.items()] + [""]
    out += ["## Codec options: [codec] (each codec declares its own)", ""]
    for modality in known_modalities():
        cls = codec_class(modality)
        if cls.option_ranges:
            out += _ranges(f"{modality}", cls.option_ranges, cls().options if _makes_default(cls) else {})
    out += ["## Export options: --set export.KEY=VALUE (the same name means the same in every writer)", ""]
    out += _ranges("all writers", OPTION_RANGES, {})
    return "\n".join(out).rstrip() + "\n"


def _makes_default(cls) -> bool:
    try:
        cls()
        return True
    except Exception:  # a codec that needs data to exist has no defaults to show
        return False


if __name__ == "__main__":
    text = settings_markdown()
    DOC.write_text(text)
    sys.stdout.write(f"wrote {DOC} ({len(text.splitlines())} lines)\n")
