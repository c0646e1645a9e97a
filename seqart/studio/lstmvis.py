"""LSTMVis-style views over a model's states (Strobelt et al., "LSTMVis", 2018).

Select: brush a span of time steps [a, b] and set a threshold; the cells that stay on (state
above the threshold) at every step of the span, and are off just before it, are that span's
pattern. Match: other spans, in this clip or others, where every one of those cells is on
together; closest in length to the brushed span first.
States are (T, H) arrays, one row per time step (hidden h or cell c of one layer).
"""

from __future__ import annotations

import numpy as np


def select(states: np.ndarray, span: tuple[int, int], threshold: float) -> np.ndarray:
    """Indices of the cells on (> threshold) at every step of span = [first, last] (inclusive) and,
    where the span has a step before it, off at that step."""
    first, last = span
    T = len(states)
    if T == 0:
        return np.zeros(0, int)
    first, last = min(first, T - 1), min(last, T - 1)
    on = (states[first : last + 1] > threshold).all(axis=0)  # (H,)
    if first > 0:
        on &= states[first - 1] <= threshold
    return np.flatnonzero(on)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in a (T,) mask as [first, last] pairs."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist()))


def match(states: np.ndarray, cells: np.ndarray, threshold: float, span: tuple[int, int] | None = None,
          most: int = 10, clip: int = 0) -> list[tuple[int, int, int, int]]:
    """Spans where every selected cell is on together: (clip, first, last, cells on: all of them) each,
    closest in length to `span` first; the brushed span itself is left out. Give several clips by
    calling once per clip (`clip` names it)."""
    if len(cells) == 0:
        return []
    on = states[:, cells] > threshold  # (T, K)
    want = None if span is None else span[1] - span[0] + 1
    found = []
    for first, last in runs(on.all(axis=1)):
        if span is not None and first <= span[1] and last >= span[0]:
            continue
        found.append((clip, first, last, len(cells)))
    found.sort(key=lambda s: (abs((s[2] - s[1] + 1) - want) if want else 0, s[1]))
    return found[:most]


def select_and_match(inside, span: tuple[int, int], threshold: float, state: str = "h",
                     layer: int = -1) -> tuple[np.ndarray, list]:
    """An Inside result's select view (cells on over span) and match view: spans in the clip
    (0) and in the other clips given with it (1, 2...), those as long as the brush first."""
    states = inside.states(state, layer)
    cells = select(states, span, threshold)
    found = match(states, cells, threshold, span)
    for i, (h, c) in enumerate(inside.others, 1):
        found += match((h if state == "h" else c)[:, layer], cells, threshold, None, clip=i)
    want = span[1] - span[0] + 1
    found.sort(key=lambda s: (abs(s[2] - s[1] + 1 - want), s[0], s[1]))
    return cells, found[:20]
