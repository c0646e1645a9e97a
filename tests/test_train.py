"""Training on real drawings: loss goes down, seeds reproduce, resume is exact, kills are safe."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqart import checkpoint
from seqart.codecs.strokes import StrokesCodec
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.modelio import load_model
from seqart.train import train

from tests.samples import SHEEP

TINY = ["model.hidden=32", "model.mixtures=4", "train.batch_size=16", "train.max_len=120", "train.threads=1"]


def cfg(*sets: str) -> dict:
    return merge(defaults(StrokesCodec().options), None, TINY + list(sets))


def weights(run: Path) -> dict:
    return checkpoint.load(run / "latest", "model")[0]


def test_loss_goes_down_on_real_sheep(tmp_path):
    result = train(SHEEP, tmp_path, cfg("train.steps=60", "train.valid_every=30", "train.lr=3e-3"), progress=False)
    log = [__import__("json").loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    model, codec, meta = load_model(tmp_path)
    first = torch.manual_seed(0)  # noqa: F841 - an untrained model of the same shape as the baseline
    from seqart.model import MDNLSTM, ModelConfig
    from seqart.train import evaluate
    from seqart.splits import split_clips

    fresh = MDNLSTM(ModelConfig(**meta["model"]))
    valid = split_clips(codec.read(SHEEP))["valid"]
    untrained = evaluate(fresh, codec, valid, 16, 120)["nll"]
    assert log[-1]["valid"]["nll"] < untrained - 0.5
    assert result["best_valid_nll"] == min(e["valid"]["nll"] for e in log)


def test_same_seed_same_weights(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for run, seed in ((a, 7), (b, 7), (c, 8)):
        train(SHEEP, run, cfg("train.steps=6", "train.valid_every=6", f"train.seed={seed}"), progress=False)
    wa, wb, wc = weights(a), weights(b), weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_fine_tuning_starts_from_the_given_model_and_keeps_its_codec(tmp_path):
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    train(SHEEP, base, cfg("train.steps=6", "train.valid_every=6", "train.seed=3"), progress=False)
    # lr 0: Adam cannot move the weights, so the tuned run must hold the initial weights exactly
    result = train(SHEEP, tuned, cfg("train.steps=2", "train.valid_every=2", "train.lr=0.0", "train.min_lr=0.0",
                                     f'train.init="{base}"', "codec.scale_aug=0.0"), progress=False)
    wb, wt = weights(base), weights(tuned)
    assert all(torch.equal(wb[k], wt[k]) for k in wb)
    (_, c0, _), (m1, c1, meta) = load_model(base), load_model(tuned)
    assert m1.cfg.hidden == 32 and meta["step"] == 2 and meta["train"]["init"] == str(base)
    assert c0.norm.scale.tolist() == c1.norm.scale.tolist()
    assert c1.options["scale_aug"] == 0.0 and c0.options["scale_aug"] == 0.15  # a training option of this run
    with pytest.raises(SeqartError, match=r"model.hidden=64: a fine-tune keeps the shape of train.init=.*hidden=32"):
        train(SHEEP, tmp_path / "other", cfg("train.steps=2", f'train.init="{base}"', "model.hidden=64"),
              progress=False)
    # and it does learn from there: a real learning rate moves the weights
    moved = tmp_path / "moved"
    train(SHEEP, moved, cfg("train.steps=2", "train.valid_every=2", f'train.init="{base}"'), progress=False)
    assert not all(torch.equal(wb[k], weights(moved)[k]) for k in wb)
    assert result["best_valid_nll"] > 0


def test_fine_tuning_on_another_kind_of_data_is_a_clear_error(tmp_path):
    base = tmp_path / "base"
    train(SHEEP, base, cfg("train.steps=2", "train.valid_every=2"), progress=False)
    midi = Path(__file__).resolve().parents[1] / "datasets" / "midi" / "nottingham"
    with pytest.raises(SeqartError, match="a strokes model cannot learn from .*nottingham .notes."):
        train(midi, tmp_path / "t", cfg("train.steps=2", f'train.init="{base}"'), progress=False)


def test_resume_continues_exactly(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(SHEEP, whole, cfg("train.steps=10", "train.valid_every=5"), progress=False)
    train(SHEEP, split, cfg("train.steps=5", "train.valid_every=5"), progress=False)
    assert checkpoint.load(split / "latest", "model")[1]["step"] == 5
    train(SHEEP, split, cfg("train.steps=10", "train.valid_every=5"), progress=False)
    ww, ws = weights(whole), weights(split)
    assert all(torch.allclose(ww[k], ws[k], atol=1e-6) for k in ww)


def _seqart(*args) -> list[str]:
    return [sys.executable, "-m", "seqart.cli", *map(str, args)]


def test_killed_runs_leave_a_loadable_checkpoint_and_resume(tmp_path):
    """SIGKILL a run that checkpoints every step, again and again; every stop leaves a whole checkpoint."""
    run = tmp_path / "run"
    args = _seqart("train", SHEEP, "--out", run, "--steps", "400", "--quiet",
                   *[a for s in TINY + ["train.valid_every=1"] for a in ("--set", s)])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    steps, log = [], run / "log.jsonl"
    for delay in (0.0, 0.15, 0.4):
        seen = len(log.read_text().splitlines()) if log.exists() else 0
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) <= seen):
            time.sleep(0.05)  # wait for this run's first new checkpoint, then kill it mid-stride
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        folder = checkpoint.find(run / "latest")
        assert folder is not None
        load_model(folder)  # whole and readable
        steps.append(checkpoint.load(folder, "model")[1]["step"])
    assert steps == sorted(steps) and steps[-1] > steps[0] > 0


@pytest.mark.slow
def test_two_process_torchrun(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    run = tmp_path / "ddp"
    # --standalone: torchrun takes a free port of its own (other tests may run beside this one)
    cmd = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "seqart.cli", "train", str(SHEEP),
           "--out", str(run), "--steps", "6", "--quiet", *[a for s in TINY + ["train.valid_every=3"] for a in ("--set", s)]]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    why = [line for line in done.stderr.splitlines() if "terminate" in line or "what()" in line or "Error" in line]
    assert done.returncode == 0, "\n".join(why[:10]) + "\n" + done.stderr[-1500:]
    log = [__import__("json").loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [3, 6] and all(e["world"] == 2 for e in log)
    load_model(run)
