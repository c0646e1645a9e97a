"""docs/settings.md from the one spec (seqart.spec, and each codec's own settings.py): every table,
with type, default, range, unit and help.

    python -m seqart.spec_docs            # rewrite docs/settings.md
A test checks that the file in the repository is what this prints, so the docs cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqart import spec

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
TITLES = {"train": "Training: [train]", "model": "Model: [model] (MDN-LSTM family)",
          "draw": "Model: [model] (DRAW family: images, `--modality canvas`)",
          "generate": "Generation: seqart sample flags and the Sampler",
          "flags": "Other flags: seqart interpolate, prepare, write, make-handwriting, perform",
          "render": "Render pieces: [render] of seqart render PIECE.toml",
          "piece": "Live pieces: pieces/*.toml and seqart perform --set",
          "export": "Export options: --set export.KEY=VALUE (the same name means the same in every writer; "
                    "no default: each writer's own)"}


def _cell(v) -> str:
    return "" if v is None else str(v).replace("|", "\\|")


def _default(v) -> str:
    if isinstance(v, str):
        return repr(v) if len(v) <= 24 else f"{v[:20]!r}..."
    return _cell(v)


def _table(settings: list[spec.Setting]) -> list[str]:
    rows = ["| setting | type | default | range | unit | what it does |", "|---|---|---|---|---|---|"]
    for s in settings:
        rows.append(f"| `{s.name}` | {s.type_name} | {_cell(_default(s.default))} | {_cell(s.range_text())} "
                    f"| {s.unit} | {_cell(s.help)} |")
    return rows


def settings_markdown() -> str:
    from seqart.codecs import codec_class, known_modalities

    out = ["# Settings", "", "Generated from `seqart/spec.py` by `python -m seqart.spec_docs`; do not edit by hand.",
           "Every setting is checked where it comes in (a TOML file, `--set`, a flag, an OSC message, a",
           "checkpoint's JSON), with one line naming it when it is of the wrong type or out of range.", ""]
    for key, table in spec.SECTIONS.items():
        out += [f"## {TITLES[key]}", ""] + _table(table) + [""]
    out += ["## OSC control messages that carry a number", "", "| address | range | unit |", "|---|---|---|"]
    out += [f"| `/seqart{a}` | {q.range_text()} | {q.unit} |" for a, q in spec.OSC_NUMBERS.items()] + [""]
    out += ["## Codec options: [codec], --set codec.KEY=VALUE (by the data's modality)", "",
            "\"learnt\" options are set when the codec is fitted on training data and saved with the model.", ""]
    for modality in known_modalities():
        out += [f"### {modality}", ""] + _table(list(codec_class(modality).settings)) + [""]
    out += ["## Generation options: seqart sample --set KEY=VALUE, a piece's [options], render.options", ""]
    for modality in known_modalities():
        if codec_class(modality).generation_settings:
            out += [f"### {modality}", ""] + _table(list(codec_class(modality).generation_settings)) + [""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    text = settings_markdown()
    DOC.write_text(text)
    sys.stdout.write(f"wrote {DOC} ({len(text.splitlines())} lines)\n")
