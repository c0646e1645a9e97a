"""What a page sends -> the Clip that primes the model, and how the model's frames come back.

The primers are the live engine's (seqart.live.phrase: a drawing as absolute points, a phrase
as notes), so the studio and OSC control read played material the same way; an uploaded file
goes through the model's codec, i.e. the same strict readers as `seqart sample --prime`.
Frames come back as the live engine's events (seqart.live.events: `/seqart/pen x y down`,
`/seqart/note pitch velocity seconds`, `/seqart/pose f...`), the same as its OSC stream.

A drawing arrives in canvas pixels. The canvas shows a model's drawings at one size whatever
its units: one standard deviation of its training offsets (`norm.scale`) is `OFFSET_STD_PX`
pixels, about the sheep data's size on a 640 x 480 canvas. A drawing made with a mouse has a
point every few pixels where the training data was simplified (RDP), so each stroke is
simplified with the codec's own `rdp_epsilon` before it primes the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.live.phrase import drawing_to_clip, phrase_to_clip

OFFSET_STD_PX = 18.0  # pixels on the page for one std of the model's training offsets


def px_per_unit(codec) -> float:
    """Canvas pixels per source unit of the training drawings: the pen's scale on a page, as the codec
    shows it (`render_options`); ValueError for a codec whose frames are no pen on a page."""
    scale = render_options(codec).get("scale")
    if scale is None:
        raise ValueError(f"its channels {codec.layout.channels} are not pen strokes: it cannot take a drawing")
    return float(scale)


def drawing_rows(codec, points: np.ndarray) -> np.ndarray:
    """(N, 3) canvas x, y, lifted -> (N', 3) rows in model units, each stroke RDP-simplified,
    translated so the drawing starts at the origin."""
    from seqart.formats.stroke3 import rdp

    pts = np.asarray(points, np.float64).reshape(-1, 3)
    px = px_per_unit(codec)
    ends = np.flatnonzero(pts[:, 2] > 0.5)
    cuts = np.concatenate([[0], ends + 1, [len(pts)]])
    eps = float(codec.options.get("rdp_epsilon", 0.0))
    rows = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b <= a:
            continue
        xy = pts[a:b, :2] / px
        kept = rdp(xy, eps) if eps > 0 and len(xy) > 2 else xy
        lifted = np.zeros(len(kept))
        lifted[-1] = 1.0 if pts[b - 1, 2] > 0.5 else 0.0
        rows.append(np.column_stack([kept, lifted]))
    out = np.concatenate(rows)
    out[:, :2] -= out[0, :2]
    return out


def render_options(codec) -> dict:
    """Options for the live renderer that turns frames into the page's events (the codec's view of
    a page: a pen in canvas pixels, a dancer's joint positions kept above the origin...)."""
    return codec.view_options(OFFSET_STD_PX)


def primer(model, msg: dict, uploads) -> tuple[Clip | None, dict]:
    """(primer clip or None, render options) from a `continue` or `inside` message."""
    codec = model.codec
    options = render_options(codec)
    try:
        if "drawing" in msg and len(msg["drawing"]):
            last = msg["drawing"][-1, :2]  # the pen goes on from where the drawing stopped
            clip = drawing_to_clip(codec, drawing_rows(codec, msg["drawing"]))
            return clip, options | {"origin": (float(last[0]), float(last[1]))}
        if "phrase" in msg and len(msg["phrase"]):
            return phrase_to_clip(codec, msg["phrase"]), options
    except ValueError as e:  # the live primers' own one-line reasons ("cannot take a drawing")
        raise SeqartError(f"{model.name}: {e}") from None
    if "upload" in msg:
        return codec.prime_clip(Path(uploads.path(msg["upload"]))), options
    return None, options
