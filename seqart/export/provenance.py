"""What made a generated file: model, seed, temperature..., for the place each format keeps such notes.

`generate_clips` stores a `provenance` dict in every clip's meta; writers put it in the file
(SVG `<metadata>`, a MIDI text event, ...) as one compact JSON object. Nothing in it comes
from the clock, so the same seed still gives byte-identical files.
"""

from __future__ import annotations

import json


def provenance_of(clips) -> dict | None:
    """The provenance shared by the clips of one file (per-clip `index` dropped); None for clips
    that were not generated (a file converted from data carries none)."""
    found = [{k: v for k, v in c.meta["provenance"].items() if k != "index"}
             for c in clips if isinstance(c.meta.get("provenance"), dict)]
    if not found:
        return None
    return found[0] if all(f == found[0] for f in found) else {"made": found}


def provenance_text(clips) -> str | None:
    """The provenance as one line of JSON with sorted keys (deterministic), or None."""
    made = provenance_of(clips)
    return None if made is None else json.dumps(made, sort_keys=True, separators=(", ", ": "))
