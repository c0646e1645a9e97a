"""`seqart demo`, the main job: art out of the box from every shipped model."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import mido
from PIL import Image

from seqart.demo import shipped_models
from seqart.formats.bvh import read_bvh


def test_demo_writes_every_shipped_models_outputs(tmp_path):
    models = shipped_models()
    assert {"sheep", "nottingham", "salsa"} <= {m.name for m in models}
    done = subprocess.run([sys.executable, "-m", "seqart.cli", "demo", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr
    written = {p.strip() for p in done.stdout.splitlines()}
    for m in models:
        for ext in json.loads((m / "model.json").read_text())["demo"]["outputs"]:
            path = tmp_path / f"{m.name}{ext}"
            assert str(path) in written and path.stat().st_size > 0, path
    assert ET.parse(tmp_path / "sheep.svg").getroot().tag.endswith("svg")
    assert Image.open(tmp_path / "sheep.gif").n_frames > 1
    notes = [m for m in mido.MidiFile(tmp_path / "nottingham.mid") if m.type == "note_on" and m.velocity > 0]
    assert len(notes) > 20
    assert len(read_bvh(tmp_path / "salsa.bvh").values) > 100
