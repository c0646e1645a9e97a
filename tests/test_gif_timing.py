"""GIFs play at the clip's own rate: frame delays are whole hundredths whose sum keeps the clock."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from seqart.codecs.poses import PosesCodec
from seqart.codecs.strokes import stroke3_to_clip
from seqart.export import export_clips
from seqart.export.gif_timing import frame_durations_ms
from tests.samples import DATASETS


def played_ms(path) -> list[int]:
    with Image.open(path) as gif:
        return [fr.info["duration"] for fr in ImageSequence.Iterator(gif)]


@pytest.mark.parametrize("fps", [30.0, 24.0, 60.0, 25.0, 29.97])
def test_delays_accumulate_to_the_exact_clock(fps):
    d = np.asarray(frame_durations_ms(300, 1 / fps))
    assert (d % 10 == 0).all() and (d > 0).all()
    clock = np.cumsum(d) / 1000 - np.arange(1, 301) / fps
    assert np.abs(clock).max() <= 0.005 + 1e-9  # never more than half a hundredth off


def test_a_30_fps_dance_plays_at_30_fps(tmp_path):
    codec = PosesCodec({"fps": 30.0, "source_fps": 60.0, "trim_start": 1})
    clip = codec.read(DATASETS / "mocap" / "salsa_12_excerpt.bvh")["all"][0].slice(0, 60)
    export_clips([clip], tmp_path / "dance.gif", size=64)
    delays = played_ms(tmp_path / "dance.gif")
    assert len(delays) == 60 and sum(delays) == 2000  # 60 frames at 30 fps are 2 s, not 1.8 s
    assert set(delays) == {30, 40}


def test_a_drawing_gif_with_odd_frame_time_keeps_its_clock(tmp_path):
    spiral = np.column_stack([np.cos(np.arange(120) / 5) * 8, np.sin(np.arange(120) / 5) * 8, np.zeros(120)])
    clip = stroke3_to_clip(spiral, rate=60.0)
    export_clips([clip], tmp_path / "draw.gif", frame_ms=33, hold_s=0.0, max_px=80)
    delays = played_ms(tmp_path / "draw.gif")
    assert abs(sum(delays) - len(delays) * 33) <= 5  # 33 ms frames, not 30 ms ones
