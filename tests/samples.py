"""Paths to the small real samples shipped in datasets/, for tests that must run without ../shared."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "datasets"
SHEEP = DATASETS / "sketches" / "aaron_sheep_small.npz"  # a subset of aaron_sheep, CC BY-NC 4.0
SHARED = ROOT.parent / "shared" / "datasets"  # present in CI and on developers' machines only
