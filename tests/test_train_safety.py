"""Training never loses work and says what it does: signals, timed checkpoints, start and resume lines."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqart import checkpoint, precision
from seqart.codecs.strokes import StrokesCodec
from seqart.config import defaults, merge
from seqart.errors import SeqartError
from seqart.modelio import load_model
from seqart.train import Trainer, train

from tests.samples import SHEEP

TINY = ["model.hidden=32", "model.mixtures=4", "train.batch_size=16", "train.max_len=120", "train.threads=1"]


def cfg(*sets: str) -> dict:
    return merge(defaults(StrokesCodec().options), None, TINY + list(sets))


def _seqart(*args) -> list[str]:
    return [sys.executable, "-m", "seqart.cli", *map(str, args)]


def _sets(*sets: str) -> list[str]:
    return [a for s in TINY + list(sets) for a in ("--set", s)]


def _wait_for(predicate, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_saves_says_where_and_a_rerun_resumes(tmp_path, sig, status):
    """Stopped long before its first validation, a run still leaves a loadable checkpoint."""
    run = tmp_path / "run"

    def args(steps: int) -> list[str]:
        return _seqart("train", SHEEP, "--out", run, "--steps", steps, *_sets("train.valid_every=100000"))

    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(args(100000), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    _wait_for(lambda: (lines.append(proc.stderr.readline()) or "training a strokes model" in lines[-1]))
    time.sleep(1.0)  # a few steps
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status
    said = [line for line in err.splitlines() if "saved" in line]
    assert said and signal.Signals(sig).name in said[0] and str(run / "latest") in said[0]
    assert "Traceback" not in err
    folder = checkpoint.find(run / "latest")
    load_model(folder)
    step = checkpoint.load(folder, "model")[1]["step"]
    assert step > 0

    again = subprocess.run(args(step + 2), env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-800:]
    assert f"resuming from step {step} of {step + 2}" in again.stderr
    assert checkpoint.load(run / "latest", "model")[1]["step"] == step + 2


def test_checkpoints_come_on_time_between_validations(tmp_path):
    run = tmp_path / "run"
    args = _seqart("train", SHEEP, "--out", run, "--steps", "100000", "--quiet",
                   *_sets("train.valid_every=100000", "train.checkpoint_minutes=0.005"))  # every 0.3 s
    proc = subprocess.Popen(args, env=dict(os.environ, OMP_NUM_THREADS="1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        steps = []
        for _ in range(2):  # two timed saves, each a later step than the one before
            _wait_for(lambda: checkpoint.find(run / "latest") is not None
                      and checkpoint.load(checkpoint.find(run / "latest"), "model")[1]["step"] > max(steps, default=0))
            steps.append(checkpoint.load(checkpoint.find(run / "latest"), "model")[1]["step"])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert steps[1] > steps[0] > 0
    assert not (run / "log.jsonl").exists()  # no validation ran: these were the timed saves


def test_start_line_estimate_early_validation_and_early_stop(tmp_path, monkeypatch):
    import seqart.train as train_module

    monkeypatch.setattr(train_module, "EARLY_VALIDATION_S", 0.0)  # the first validation comes at once
    lines: list[str] = []
    result = train(SHEEP, tmp_path, cfg("train.steps=200", "train.valid_every=2", "train.patience=1",
                                        "train.lr=0"), progress=False, log=lines.append)
    assert lines[0].startswith(f"training a strokes model on {SHEEP}:")
    assert "train /" in lines[0] and "valid /" in lines[0] and "M parameters" in lines[0] and "fp32" in lines[0]
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert log[0]["step"] == 1  # validated after the first step, not at valid_every
    # lr 0: nothing improves after the first validation, so patience 1 stops the run at the next
    assert result["step"] < 200 and "stopped early" in result["stopped_early"]
    assert any("stopped early" in line and "train.patience = 1" in line for line in lines)


def test_estimate_of_the_time_left(tmp_path):
    lines: list[str] = []
    train(SHEEP, tmp_path, cfg("train.steps=25", "train.valid_every=25"), progress=False, log=lines.append)
    eta = [line for line in lines if line.startswith("about ")]
    assert len(eta) == 1 and "to step 25" in eta[0] and "s/step" in eta[0]


def test_precision_auto_follows_the_hardware_and_bf16_needs_it():
    cpu = torch.device("cpu")
    native = precision.cpu_has_bf16()
    assert precision.resolve("auto", cpu) == ("bf16" if native else "fp32")
    assert precision.resolve("fp32", cpu) == "fp32"
    if native:
        assert precision.resolve("bf16", cpu) == "bf16"
    else:
        with pytest.raises(SeqartError, match="no native bf16"):
            precision.resolve("bf16", cpu)


def test_unknown_precision_is_one_line(tmp_path):
    done = subprocess.run(_seqart("train", SHEEP, "--out", tmp_path / "r", "--set", "train.precision=fp16"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["seqart: error: train.precision = 'fp16' is not one of auto, bf16, fp32"]


def test_the_mixture_head_and_loss_stay_fp32_under_autocast():
    """Under bf16 autocast the head and the loss are computed in fp32 (the LSTM may run in bf16)."""
    t = Trainer(SHEEP, Path("unused"), cfg("train.steps=1"), progress=False)
    x, mask = next(iter(t.batches))
    seen = {}
    t.model.head.register_forward_hook(lambda m, i, o: seen.update(dtype=o.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        t.model.decoder = _Bf16Passthrough(t.model.decoder)  # oneDNN's bf16 LSTM needs AVX-512 BF16
        _, losses = t.model(x, mask)
    assert seen["dtype"] == torch.float32 and losses["nll"].dtype == torch.float32


class _Bf16Passthrough(torch.nn.Module):
    """The fp32 LSTM, its output handed on in bf16 as an autocast LSTM's would be."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, inp, state=None):
        with torch.autocast("cpu", enabled=False):
            out, state = self.lstm(inp.float(), state)
        return out.bfloat16(), state
