"""Paths to the small real samples shipped in datasets/, for tests that must run without ../shared."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "datasets"
SHEEP = DATASETS / "sketches" / "aaron_sheep_small.npz"  # a subset of aaron_sheep, CC BY-NC 4.0
SHARED = ROOT.parent / "shared" / "datasets"  # present in CI and on developers' machines only


def bar_images(path: Path, n: int) -> Path:
    """n 8 x 8 binary images of two kinds (a bar at the top, a bar at the left, alternating), written
    as an MNIST-style IDX file at `path`: a DRAW data set small enough to learn in a few steps."""
    import numpy as np

    from seqart.formats.images import write_idx

    x = np.zeros((n, 8, 8), np.float32)
    x[::2, 1:3, 1:7] = 1.0
    x[1::2, 1:7, 1:3] = 1.0
    write_idx(x, path)
    return path
