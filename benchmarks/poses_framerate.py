"""Is the CMU salsa data 60 or 120 frames per second? Measure the motion and compare with people.

The BVH headers say Frame Time 0.00833333 (120 fps); the upstream readme says
60. Both readings of the same frames are converted to physical rates: how
fast the hips travel, how fast the feet swing, how many steps per second,
and the tempo of the repeating footwork. Prints JSON (and writes it with -o).

    OMP_NUM_THREADS=1 python benchmarks/poses_framerate.py ../shared/datasets/mocap/cmu_salsa \
        -o benchmarks/results/poses_framerate.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from seqart.formats.bvh import read_bvh
from seqart.codecs.poses.kinematics import joint_positions


def swings(foot: np.ndarray, min_frames: int = 5) -> int:
    """Count steps: stretches of at least min_frames where the foot moves clearly faster than it rests.

    foot (T, 3) positions; speed in units per frame, so the count does not depend on the frame rate.
    """
    speed = np.linalg.norm(np.diff(foot, axis=0), axis=1)
    moving = np.concatenate([[False], speed > 0.5 * np.median(speed) + 0.3 * speed.std(), [False]])
    edges = np.flatnonzero(np.diff(moving.astype(int)))
    starts, stops = edges[::2], edges[1::2]
    return int(np.sum(stops - starts >= min_frames))


def footwork_period(feet: np.ndarray, lo: int = 20, hi: int = 400) -> int:
    """Lag (frames) of the strongest autocorrelation peak of the summed foot speed."""
    s = np.linalg.norm(np.diff(feet, axis=0), axis=2).sum(1)
    s = s - s.mean()
    ac = np.correlate(s, s, "full")[len(s) - 1 :]
    return int(lo + np.argmax(ac[lo:hi]))


def measure(path: Path) -> dict:
    m = read_bvh(path)
    sk = m.skeleton
    pos = joint_positions(sk, m.values[1:])  # the first frame is a rest pose
    hip = pos[:, 0]
    feet = pos[:, [sk.names.index("lFoot"), sk.names.index("rFoot")]]
    ground = np.linalg.norm(np.diff(hip[:, [0, 2]], axis=0), axis=1)  # cm per frame
    foot_speed = np.linalg.norm(np.diff(feet, axis=0), axis=2)
    return {"file": path.name, "frames": len(pos), "hip_cm_per_frame": float(ground.mean()),
            "foot_p95_cm_per_frame": float(np.percentile(foot_speed, 95)),
            "steps": swings(feet[:, 0]) + swings(feet[:, 1]), "footwork_period_frames": footwork_period(feet)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("-o", "--out", type=Path)
    a = ap.parse_args()
    clips = [measure(p) for p in sorted(a.folder.glob("*.bvh"))]
    frames = sum(c["frames"] for c in clips)
    per_frame = {"hip_cm": np.mean([c["hip_cm_per_frame"] for c in clips]),
                 "foot_p95_cm": np.mean([c["foot_p95_cm_per_frame"] for c in clips]),
                 "steps": sum(c["steps"] for c in clips) / frames,
                 "period": float(np.median([c["footwork_period_frames"] for c in clips]))}
    readings = {}
    for fps in (60, 120):
        readings[f"{fps}_fps"] = {
            "total_seconds": frames / fps,
            "hip_ground_speed_m_per_s": per_frame["hip_cm"] * fps / 100,
            "foot_speed_p95_m_per_s": per_frame["foot_p95_cm"] * fps / 100,
            "steps_per_second": per_frame["steps"] * fps,
            # salsa's basic step puts 6 steps in 8 beats
            "tempo_bpm_from_steps": per_frame["steps"] * fps * 60 * 8 / 6,
            "footwork_period_s": per_frame["period"] / fps,
        }
    r60, r120 = readings["60_fps"], readings["120_fps"]
    result = {
        "command": " ".join(["python"] + sys.argv),
        "clips": clips,
        "readings": readings,
        "human_reference": {
            "walking_cadence_steps_per_s": "1.6-2.0 (about 100-120 steps a minute)",
            "salsa_music_tempo_bpm": "about 150-220; the basic step is 6 steps in 8 beats",
            "walking_speed_m_per_s": "1.2-1.4",
        },
        "verdict": (f"60 fps: {r60['steps_per_second']:.1f} steps/s (a {r60['tempo_bpm_from_steps']:.0f} bpm salsa) and "
                    f"hips travelling {r60['hip_ground_speed_m_per_s']:.2f} m/s are ordinary dancing; read at 120 fps the "
                    f"same frames give {r120['steps_per_second']:.1f} steps/s ({r120['tempo_bpm_from_steps']:.0f} bpm) and "
                    f"{r120['hip_ground_speed_m_per_s']:.2f} m/s of travel, brisk walking, all through a dance"),
    }
    text = json.dumps(result, indent=1)
    if a.out:
        a.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
