"""`seqart inspect`: the Inside views of one clip as a picture (PNG) or one self-contained HTML file.

Panels, top to bottom: what the model predicted (a density over the plane with the codec's
segments on it, class probabilities over time under the codec's spans of each class, or the spread per joint;
DRAW: its canvas per step), the end channel's class probabilities or the per-frame NLL, a
handwriting model's window, and the hidden and cell states of the last layer over time. The
HTML adds an LSTMVis select and match for one brushed span. What a modality adds to a view
comes with the view (`Codec.inside_marks`), so nothing here asks which modality it is.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from seqart.errors import SeqartError
from seqart.studio.inside import Inside
from seqart.studio.lstmvis import select_and_match


def figure_png(ins: Inside) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [_prediction, _probabilities] + ([_window] if "window" in ins.views else []) + [_states("h"), _states("c")]
    heights = [3] + [1.3] * (len(panels) - 1)
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, sum(heights) + 0.6), gridspec_kw={"height_ratios": heights})
    for ax, panel in zip(axes, panels):
        panel(ax, ins)
    what = f"{len(ins.frames)} steps drawn" if "draw" in ins.views else \
        f"{len(ins.frames)} frames, mean NLL {ins.nll.mean():.3f} nats"
    fig.suptitle(f"inside {ins.model}: {what}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _prediction(ax, ins: Inside) -> None:
    v = ins.views
    if "draw" in v:  # DRAW: the canvas after each step, its write box on it
        d = v["draw"]
        canv, boxes = np.asarray(d["canvases"]), np.asarray(d["boxes"])
        T, H, W = canv.shape
        ax.imshow(np.concatenate(list(canv), axis=1), cmap="Greys", vmin=0, vmax=1)
        for t, (x, y, size, _sigma) in enumerate(boxes):
            ax.add_patch(_box(t * W + x - size / 2, y - size / 2, size, "#d62728"))
        for t, (x, y, size, _sigma) in enumerate(d.get("read", [])):
            ax.add_patch(_box(t * W + x - size / 2, y - size / 2, size, "#1f77b4"))
        ax.set_title("the canvas after each step, with the box it wrote (red)"
                     + (" and read (blue)" if "read" in d else ""), fontsize=9)
        ax.set_axis_off()
        return
    if "density" in v:
        d = v["density"]
        img = d["image"]
        x0, y0 = d["origin"]
        extent = (x0, x0 + d["cell"] * img.shape[1], y0 + d["cell"] * img.shape[0], y0)
        ax.imshow(img, extent=extent, cmap="magma_r", aspect="equal")
        segments = np.asarray(d.get("segments", np.zeros((0, 4))), np.float64).reshape(-1, 2, 2)  # (N, 2 ends, x y)
        ax.add_collection(_lines(segments))
        ax.set_title("next-point density at every step (each scaled to 1)"
                     + (", the clip on top" if len(segments) else ""), fontsize=9)
        ax.set_axis_off()
        return
    roll = next((x for x in v.values() if x["kind"] == "classes" and len(x.get("spans", ()))), None)
    if roll is not None:  # a roll: each step's class held over time, on the class probabilities
        probs = np.asarray(roll["probs"])  # (T, K)
        spans = np.asarray(roll["spans"], np.float64)  # (T, 3) onset s, class, duration s
        onsets = spans[:, 0]
        edges = np.concatenate([onsets, [onsets[-1] + max(spans[-1, 2], 0.1)]])  # (T + 1,) seconds
        used = np.flatnonzero(probs.max(0) > 1e-3)
        lo, hi = max(used.min() - 2, 0), min(used.max() + 3, probs.shape[1])
        ax.pcolormesh(edges, np.arange(lo, hi + 1) - 0.5, probs[:, lo:hi].T, cmap="Greys", shading="flat")
        for t, k, dur in spans:
            ax.add_patch(_rect(t, k - 0.4, dur, 0.8))
        ax.set_ylabel(roll["channel"])
        ax.set_xlabel("seconds")
        ax.set_title(f"{roll['channel']} distribution at each step (grey) under the clip (red)", fontsize=9)
        return
    spread = next((x for x in v.values() if x["kind"] == "spread"), None)
    if spread is not None:
        ax.imshow(np.asarray(spread["std"]).T, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_yticks(range(len(spread["names"])), spread["names"], fontsize=6)
        ax.set_title("spread of the prediction per joint (mixture std, clip units)", fontsize=9)
        ax.set_xlabel("frame")
        return
    ax.set_axis_off()


def _box(x, y, size, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), size, size, fill=False, edgecolor=colour, lw=1)


def _lines(segments):
    from matplotlib.collections import LineCollection

    return LineCollection(segments, colors="#1f77b4", linewidths=1)


def _rect(x, y, w, h):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor="#d62728", alpha=0.8)


def _probabilities(ax, ins: Inside) -> None:
    if "draw" in ins.views:
        boxes = np.asarray(ins.views["draw"]["boxes"])
        ax.plot(boxes[:, 2], label="box size (px)")
        ax.plot(boxes[:, 3], label="filter sigma (px)")
        ax.legend(fontsize=7, loc="upper right")
        ax.set_title("the write window at each step", fontsize=9)
        ax.set_xlim(0, len(boxes) - 1)
        return
    end = next((x for x in ins.views.values() if x["kind"] == "classes" and x["end"]), None)
    if end is not None:
        probs = np.asarray(end["probs"])  # (T, K); class 0 is 1 minus the rest, so it is left out
        labels = end.get("labels") or [f"{end['channel']} = {k}" for k in range(probs.shape[1])]
        for k in range(1, probs.shape[1]):
            ax.plot(probs[:, k], lw=1, label=labels[k])
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, loc="upper right")
        ax.set_title(f"probability of each {end['channel']} class but the first ({labels[0]})", fontsize=9)
    else:
        ax.plot(ins.nll, lw=1)
        ax.set_title("NLL of each frame (nats)", fontsize=9)
    ax.set_xlim(0, len(ins.nll) - 1)


def _window(ax, ins: Inside) -> None:
    ax.imshow(np.asarray(ins.views["window"]["weights"]).T, aspect="auto", cmap="Blues", interpolation="nearest")
    ax.set_title("window over the characters", fontsize=9)


def _states(kind: str):
    def panel(ax, ins: Inside) -> None:
        x = ins.states(kind) if kind == "h" else np.tanh(ins.states(kind))  # a cell state is unbounded
        ax.imshow(x.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"{'hidden state' if kind == 'h' else 'tanh(cell state)'} over time ({x.shape[1]} units, last layer)", fontsize=9)
        ax.set_ylabel("unit")
    return panel


def default_span(ins: Inside) -> tuple[int, int]:
    """A span to brush when none is given: four frames a third of the way in."""
    T = len(ins.frames)
    first = T // 3
    return first, min(first + 3, T - 1)


def write_view(ins: Inside, out: Path, threshold: float = 0.3) -> None:
    """view.png: the figure; view.html: the figure and the select/match views, one file."""
    from seqart.export import output

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".html"):
        raise SeqartError(f"{out}: inspect writes .png or .html")
    png = figure_png(ins)
    if suffix == ".png":
        with output(out, binary=True) as f:
            f.write(png)
        return
    span = default_span(ins)
    cells, found = select_and_match(ins, span, threshold)
    rows = "".join(f"<tr><td>{'this clip' if c == 0 else f'clip {c}'}</td><td>{a}-{b}</td><td>{b - a + 1}</td></tr>"
                   for c, a, b, _ in found)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>inside {html.escape(ins.model)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto}}td{{padding:0 1em}}</style></head><body>
<h1>Inside {html.escape(ins.model)}</h1>
<img alt="the model's predictions and states" src="data:image/png;base64,{base64.b64encode(png).decode()}">
<h2>Select (LSTMVis)</h2>
<p>Brushed frames {span[0]}-{span[1]}, threshold {threshold}: {len(cells)} hidden units stay on over the span
and are off before it: <code>{html.escape(' '.join(map(str, cells.tolist())))}</code></p>
<h2>Match</h2><p>Spans where all those units are on together ({len(found)}):</p>
<table><tr><th>where</th><th>frames</th><th>length</th></tr>{rows}</table></body></html>
"""
    with output(out, binary=False) as f:
        f.write(page)
