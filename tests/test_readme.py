"""The README's examples run from a fresh clone: every `seqart ...` line of its sh blocks, and its Python block.

The test clones the repository (the committed tree: recipes, pieces, datasets and shipped
models as a newcomer gets them), reads the README *of the clone*, and runs each example in
one Python process inside the clone (`seqart.cli.main` per command line, so torch loads once),
checking that each exits 0 and writes what it names (`--out`, `--out-dir`, a training's run
folder, the Python block's file). A new example in the README is run without touching this file.

What differs from typing the lines by hand is listed here, each with its reason:

* INPUTS: files the README means as *your own* (`drawings/`, `my_start.svg`, `my_tune.mid`, `poem.txt`...)
  are made first from the data the project ships in `datasets/` (a text is written);
* SUBSTITUTE: exact README text replaced before running: the set-up lines (this test already
  runs in the project's environment, and pip would need the network) and data kept outside the
  repository;
* SMALL: settings appended to commands that would train for hours or make large files, so the
  whole README runs in well under a minute (same commands, same code paths, fewer steps and units);
* SKIP: README lines that are not examples (the command synopsis, the test suite itself).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from peers import find_peer
from seqart.codecs.notes.writers import find_soundfont

ROOT = Path(__file__).resolve().parents[1]

# your own material -> shipped data it is made from (copied into the clone before the examples run)
INPUTS = {
    "drawings": "datasets/sketches/quickdraw_simplified",
    "my_drawings": "datasets/sketches/quickdraw_simplified",
    "my_start.svg": "datasets/sketches/svg/sheep.svg",
    "a.svg": "datasets/sketches/svg/sheep.svg",
    "b.svg": "datasets/sketches/svg/hershey_sheep_word.svg",
    "my_line.svg": "datasets/sketches/svg/hershey_sheep_word.svg",  # with my_line.txt below: a line and its text
    "my_tune.mid": "datasets/midi/nottingham/jigs1.mid",
}

# README text -> what runs instead, and why
SUBSTITUTE = {
    # set-up: the environment exists already (and pip install needs the network); the demo is what the line is for
    "python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e . && .venv/bin/seqart demo":
        "seqart demo",
    # the full aaron_sheep set is not in the repository (datasets/README.md says where it comes from); its shipped sample is
    "../shared/datasets/sketches/aaron_sheep.npz": "datasets/sketches/aaron_sheep_small.npz",
}

SMALL_MDN = ["--steps", "2", "--hidden", "16", "--mixtures", "2", "--batch-size", "4"]
# command start -> settings appended (hours of training become two steps of a tiny model; big outputs shrink)
SMALL = {
    "seqart train drawings/": SMALL_MDN + ["--set", "model.z_dim=4", "--set", "model.enc_hidden=8"],
    "seqart train hand_data": SMALL_MDN + ["--set", "model.layers=1", "--set", "model.window_mixtures=2"],
    "seqart train my_drawings/": ["--steps", "2", "--batch-size", "4", "--set", "model.glimpses=3",
                                  "--set", "model.enc_hidden=8", "--set", "model.dec_hidden=8", "--set", "model.z_dim=2"],
    "seqart train": SMALL_MDN,  # any other training
    "seqart make-handwriting": ["--lines", "12"],
    "seqart sample salsa --out dance.gif": ["--seconds", "2"],
    "seqart sample runs/sheep --out sheep.gif": ["--frames", "40"],
}

SKIP = {
    "seqart train DATA": "the command synopsis, not an example",
    "python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e '.[test,link]'":
        "installs and runs the whole test suite, of which this test is part",
}


def readme_examples(readme: str) -> tuple[list[list[str]], list[str]]:
    """(command lines as argv lists, Python blocks) from the README's ```sh and ```python blocks,
    substitutions made and skipped lines left out."""
    commands, python = [], []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", readme, re.S):
        if lang == "python":
            python.append(body)
        if lang != "sh":
            continue
        if body.lstrip().startswith("seqart train DATA"):
            continue  # SKIP: the synopsis block
        for line in body.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or any(line.startswith(s) for s in SKIP):
                continue
            for old, new in SUBSTITUTE.items():
                line = line.replace(old, new)
            argv = shlex.split(line, comments=True)
            assert argv[0] == "seqart", f"a README example that is not a seqart command: {line}"
            extra = next((v for k, v in SMALL.items() if line.startswith(k)), [])
            commands.append(argv + extra)
    return commands, python


def outputs(argv: list[str]) -> list[str]:
    """The paths a command says it writes."""
    out = []
    for flag in ("--out", "--out-dir"):
        if flag in argv:
            out.append(argv[argv.index(flag) + 1])
    if argv[1] == "make-handwriting":
        out.append(argv[2])
    if argv[1] == "demo":
        out.append("seqart-demo")
    return out


DRIVER = textwrap.dedent('''
    import json, sys, time
    import seqart.cli
    commands, python = json.load(open(sys.argv[1]))
    results = []
    for argv in commands:
        sys.argv = list(argv)
        t = time.perf_counter()
        try:
            seqart.cli.main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        results.append({"argv": argv, "code": code, "seconds": round(time.perf_counter() - t, 2)})
        print(json.dumps(results[-1]), flush=True)
    for block in python:
        exec(compile(block, "README.md (python)", "exec"), {})
        print(json.dumps({"python": "ok"}), flush=True)
    print("seqart from", seqart.cli.__file__, flush=True)
''')


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and the repository")
    dest = tmp_path_factory.mktemp("readme") / "seqart"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    for name, src in INPUTS.items():
        (shutil.copytree if (dest / src).is_dir() else shutil.copy)(dest / src, dest / name)
    (dest / "my_line.txt").write_text("sheep\n")
    (dest / "poem.txt").write_text("The owl and the cat\nwent to sea.\n")  # your own text, for `write --text-file`
    return dest


@pytest.mark.slow  # ~25 commands and the Python block, ~45 s on one loaded core
def test_the_readme_examples_run_from_a_fresh_clone(clone, tmp_path):
    readme = (clone / "README.md").read_text()
    for text in list(SUBSTITUTE) + list(SKIP):  # the table stays the truth about the README
        assert text in readme, f"not in the README any more (update tests/test_readme.py): {text}"
    commands, python = readme_examples(readme)
    assert len(commands) >= 20 and python
    if not (find_peer("fluidsynth") and find_soundfont()):  # `--out chorale.wav` needs FluidSynth and a GM soundfont
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: the README's .wav example needs FluidSynth and a soundfont")
        commands = [c for c in commands if not any(a.endswith(".wav") for a in c)]
    job = tmp_path / "examples.json"
    job.write_text(json.dumps([commands, python]))
    env = dict(os.environ, PYTHONPATH=str(clone), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, "-c", DRIVER, str(job)], cwd=clone, env=env,
                         capture_output=True, text=True, timeout=600)
    lines = [json.loads(x) for x in run.stdout.splitlines() if x.startswith("{")]
    failed = [r for r in lines if r.get("code", 0) != 0]
    assert run.returncode == 0 and not failed, f"{failed}\n{run.stderr[-3000:]}"
    assert f"seqart from {clone}" in run.stdout  # the clone's code ran, not this checkout's
    assert len([r for r in lines if "argv" in r]) == len(commands) and {"python": "ok"} in lines
    for argv in commands:
        for path in outputs(argv):
            p = clone / path
            assert p.exists() and (p.is_dir() and any(p.iterdir()) or p.stat().st_size > 0), f"{argv}: no {path}"
    assert (clone / "sheep.svg").stat().st_size > 0  # the Python block's file

