"""GIF frame times that keep the clip's clock.

A GIF stores each frame's delay in whole hundredths of a second, and Pillow
truncates a delay given in milliseconds (33 ms becomes 3 cs, so 30 fps ran at
33 fps). Rounding every frame the same way drifts; instead each frame ends at
the hundredth nearest to its exact end time, so delays mix (3, 3, 4 cs at
30 fps) and the animation's clock never strays by more than 5 ms.
"""

from __future__ import annotations

import numpy as np


def frame_durations_ms(frames: int, seconds_per_frame: float) -> list[int]:
    """Delays in ms (multiples of 10) for `frames` frames of `seconds_per_frame` each."""
    ends_cs = np.round(np.arange(frames + 1) * seconds_per_frame * 100.0).astype(np.int64)  # exact ends, rounded
    return [int(d) * 10 for d in np.diff(ends_cs)]
