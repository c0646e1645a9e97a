"""Training: batches in, checkpoints out; resumable, seeded, and DDP-ready.

`train(data, run_dir, cfg)` reads the data through its codec, fits the
normalisation on the training split, and steps Adam with sketch-rnn's
exponential learning-rate decay, gradient clipping and (for a VAE) KL
annealing with a tolerance floor. It validates every `valid_every` steps,
keeps `latest/` (with optimiser and RNG state, so a killed run resumes
exactly) and `best/` (lowest validation NLL) in the run folder, and logs
metrics to `log.jsonl`. With `train.init` it fine-tunes a trained model
(weights, codec and normalisation kept; Adam and the step count start
afresh) on new data of the same kind. Under `torchrun` every rank trains on its own share
of the batches and rank 0 validates and writes.
"""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import torch
import torch.distributed as dist
from tqdm import tqdm

from seqart import autocond, checkpoint, copula, family, memory, precision
from seqart.codecs import codec_class, codec_from_config
from seqart.codecs.base import Codec
from seqart.config import TrainConfig, defaults
from seqart.data import Batches, describe, eval_batches, open_codec, read_split
from seqart.errors import SeqartError
from seqart.modelio import load_model


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SeqartError("train.device = cuda, but no CUDA device is available")
    if name == "cuda":  # under torchrun, one GPU per process on each node (NCCL refuses two ranks on one GPU)
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        return device
    return torch.device(name)


@torch.no_grad()
def evaluate(model: torch.nn.Module, codec: Codec, clips, batch_size: int = 100, max_len: int = 0) -> dict:
    """NLL in nats per frame over every frame of clips, with its parts and the frame count."""
    model.eval()
    device = next(model.parameters()).device
    sums: dict[str, float] = {}
    frames = 0
    for x, mask in eval_batches(codec, clips, batch_size, max_len):
        _, losses = model(x.to(device), mask.to(device), z_sample=False)
        n = int(mask.sum())
        frames += n
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v) * n
    model.train()
    return {k: v / max(frames, 1) for k, v in sums.items()} | {"frames": frames}


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors = {f"opt.{i}.{k}": v for i, s in sd["state"].items() for k, v in s.items() if torch.is_tensor(v)}
    return tensors, {"param_groups": sd["param_groups"], "ids": list(sd["state"].keys())}


def _restore_optimizer(opt, tensors: dict, meta: dict) -> None:
    state = {i: {k.split(".", 2)[2]: v for k, v in tensors.items() if k.startswith(f"opt.{i}.")} for i in meta["ids"]}
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


class Trainer:
    def __init__(self, data: Path, run_dir: Path, cfg: dict, progress: bool = True, log=None,
                 modality: str | None = None):
        """log: a function that shows one line to the person training (the CLI passes one); None: silent.
        modality: read the data as this modality (e.g. "canvas" for drawings) instead of by file type."""
        self.run_dir, self.progress, self.data = Path(run_dir), progress, Path(data)
        self.log = log or (lambda line: None)
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.rank == 0:  # what a kill during a save left behind (never renamed into place)
            for name in ("latest", "best"):
                checkpoint.clean_temporary(self.run_dir / name)
        latest = checkpoint.find(self.run_dir / "latest")
        if latest is not None:  # resume: the stored settings win, except how long to train
            _, meta = checkpoint.load(latest, "model")
            steps = cfg["train"]["steps"]
            cfg = {"model": meta["model"], "train": meta["train"] | {"steps": steps}, "codec": meta["codec"]["options"]}
            self.codec = codec_from_config(meta["codec"])
        elif cfg["train"].get("init"):
            init_weights, cfg = self._init_from(data, cfg)
        elif modality:
            self.codec = codec_class(modality)(cfg["codec"])
        else:
            self.codec = open_codec(data, cfg["codec"])
        self.cfg, self.tc = cfg, TrainConfig(**cfg["train"])
        torch.set_num_threads(self.tc.threads)
        torch.manual_seed(self.tc.seed)
        self.device = pick_device(self.tc.device)
        self.precision = precision.resolve(self.tc.precision, self.device)
        self.split = read_split(self.codec, Path(data))  # lists in memory, or a cache's shards read per batch
        splits = self.split.clips
        self.train_clips, self.valid_clips = splits["train"], splits["valid"]
        if latest is None and cfg["train"].get("init"):
            self.codec.fit_data(self.train_clips)  # fine-tuning: the model's space stays, the data's statistics come in
        elif latest is None and isinstance(self.train_clips, list):  # a cache's norm was fitted as it was prepared
            self.codec.fit_norm(self.train_clips)
        self.family = family.of_codec(self.codec)  # the data picks the model: MDN-LSTM or DRAW
        memory.check_training(self.family, cfg, self.codec)  # a huge but in-range size: one line, not a MemoryError
        try:
            self.model = self.family.build(cfg["model"], self.codec).to(self.device)
        except (MemoryError, RuntimeError) as e:
            if not memory.allocation_failed(e):
                raise
            raise memory.refuse_allocation(memory.size_settings(self.family, cfg), e) from None
        if latest is None and not cfg["train"].get("init"):
            self.family.prepare(self.model, self.codec, self.train_clips)
        if latest is None and cfg["train"].get("init"):
            self.model.load_state_dict(init_weights)
        self.model.autocond = autocond.from_config(self.tc)
        if self.model.autocond is not None and not autocond.supports(self.model):
            raise SeqartError("train.autocond_own: auto-conditioning needs an MDN-LSTM without a text window")
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.tc.lr)
        self.batches = Batches(self.codec, self.train_clips, self.tc.batch_size, self.tc.max_len,
                               self.tc.seed, self.tc.augment, self.rank, self.world)
        self.step, self.best, self.bad_checks = 0, math.inf, 0
        self.copula_step = -1  # the step the copula was last fitted at
        self.metrics: dict = {}  # of the last validation, stored with every checkpoint
        self.resumed_from = latest
        if latest is not None:
            self._resume(latest)
        self.test_clips = splits.get("test", [])

    def _init_from(self, data: Path, cfg: dict) -> tuple[dict, dict]:
        """Fine-tuning: the model, its codec and normalisation come from `train.init`; Adam starts afresh.

        The codec's `training_options` (which files, splits, augmentation) come from this run's
        settings; a model setting that differs from the initial model's is an error, not ignored.
        """
        init = cfg["train"]["init"]
        model, codec, meta = load_model(Path(init))
        theirs = open_codec(data).modality
        if theirs != codec.modality:
            raise SeqartError(f"train.init={init}: a {codec.modality} model cannot learn from {data} ({theirs})")
        fresh = defaults({}, family.of_codec(codec).name)["model"]
        for key, value in cfg["model"].items():
            if value != fresh.get(key) and value != meta["model"].get(key):
                raise SeqartError(f"model.{key}={value}: a fine-tune keeps the shape of train.init={init} "
                                  f"(model.{key}={meta['model'].get(key)}); drop the setting")
        options = codec.options | {k: cfg["codec"][k] for k in codec.training_options if k in cfg["codec"]}
        self.codec = type(codec)(options, codec.norm)
        derived = family.of_codec(codec).derived
        cfg = {"model": {k: v for k, v in meta["model"].items() if k not in derived}, "train": cfg["train"],
               "codec": self.codec.options}
        return model.state_dict(), cfg

    # --- checkpoints ------------------------------------------------------------------
    def _meta(self, metrics: dict) -> dict:
        return {"family": self.family.name, "model": self.model.cfg.to_json(), "codec": self.codec.config(),
                "train": self.cfg["train"], "step": self.step, "metrics": metrics}

    def _batch_states(self) -> list[dict]:
        """Every rank's batch-iterator state, by rank. Under torchrun a collective: all ranks call it together."""
        if self.world == 1:
            return [self.batches.state()]
        states: list = [None] * self.world
        dist.all_gather_object(states, self.batches.state())
        return states

    def _fit_copula(self) -> None:
        """Fit the model's copula (seqart.copula) to the training clips, once per step it is asked at."""
        if getattr(self.model, "copula_blocks", None) and self.copula_step != self.step:
            copula.fit(self.model, self.codec, self.train_clips, self.tc.batch_size)
            self.copula_step = self.step

    def _save(self, metrics: dict, best: bool, batch_states: list[dict] | None = None) -> None:
        self._fit_copula()  # every checkpoint samples with a copula fitted to its own network
        weights = self.model.state_dict()
        opt_t, opt_meta = _optimizer_tensors(self.opt)
        trainer_t = opt_t | {"rng.torch": torch.get_rng_state()}
        states = batch_states or [self.batches.state()]
        trainer_meta = opt_meta | {"batches": states[0], "batches_by_rank": states, "best": self.best,
                                   "bad_checks": self.bad_checks}
        checkpoint.save(self.run_dir / "latest", {"model": weights, "trainer": trainer_t},
                        {"model": self._meta(metrics), "trainer": trainer_meta})
        if best:
            checkpoint.save(self.run_dir / "best", {"model": weights}, {"model": self._meta(metrics)})

    def _resume(self, folder: Path) -> None:
        weights, meta = checkpoint.load(folder, "model")
        self.model.load_state_dict(weights)
        tensors, tmeta = checkpoint.load(folder, "trainer")
        _restore_optimizer(self.opt, {k: v.to(self.device) for k, v in tensors.items() if k.startswith("opt.")}, tmeta)
        torch.set_rng_state(tensors["rng.torch"])
        states = tmeta.get("batches_by_rank", [tmeta["batches"]])
        if len(states) == self.world:  # as many processes as before: on from the exact sample, on every rank
            self.batches.set_state(states[self.rank])
        self.step, self.best, self.bad_checks = meta["step"], tmeta["best"], tmeta["bad_checks"]

    # --- schedules --------------------------------------------------------------------
    def lr(self) -> float:
        tc = self.tc
        return (tc.lr - tc.min_lr) * tc.lr_decay**self.step + tc.min_lr

    def kl_weight(self) -> float:
        tc = self.tc
        return tc.kl_weight - (tc.kl_weight - tc.kl_weight_start) * tc.kl_decay**self.step

    # --- the loop ---------------------------------------------------------------------
    def _train_step(self, net, x, mask) -> dict:
        for g in self.opt.param_groups:
            g["lr"] = self.lr()
        if self.model.autocond is not None:
            self.model.autocond.step = self.step
        with precision.autocast(self.precision, self.device):
            _, losses = net(x.to(self.device), mask.to(self.device))
        loss = self.family.loss(losses, self)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.tc.grad_clip)
        self.opt.step()
        self.step += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    def _validate(self, train_losses: dict) -> bool:
        """Validate and checkpoint on rank 0; returns whether to stop early."""
        stop = torch.zeros(1, device=self.device)  # NCCL reduces only GPU tensors
        batch_states = self._batch_states()
        if self.rank == 0:
            self._fit_copula()  # before validating: evaluation uses it
            metrics = {"valid": evaluate(self.model, self.codec, self.valid_clips, self.tc.batch_size, self.tc.max_len),
                       "train": train_losses, "lr": self.lr()}
            self.metrics = metrics
            improved = metrics["valid"]["nll"] < self.best
            if improved:
                self.best, self.bad_checks = metrics["valid"]["nll"], 0
            else:
                self.bad_checks += 1
            self._save(metrics, improved, batch_states)
            with open(self.run_dir / "log.jsonl", "a") as f:
                f.write(json.dumps({"step": self.step, "time": time.time(), "world": self.world} | metrics) + "\n")
            stop[0] = float(bool(self.tc.patience) and self.bad_checks >= self.tc.patience)
        if self.world > 1:
            dist.broadcast(stop, 0)
        self.last_save = time.monotonic()
        return bool(stop[0])

    # --- what the person training is told -----------------------------------------
    def describe(self) -> str:
        """One line: what is trained on what, how big, where and in which precision."""
        params = sum(p.numel() for p in self.model.parameters())
        return (f"training a {self.codec.modality} model on {self.data}: {len(self.train_clips)} train / "
                f"{len(self.valid_clips)} valid / {len(self.test_clips)} test clips; {self.family.describe(self.model)}, "
                f"{params / 1e6:.2f} M parameters; {self.device.type}, "
                f"{self.precision}, {self.tc.threads} thread{'s' if self.tc.threads != 1 else ''}")

    def _announce(self) -> None:
        if self.rank != 0:
            return
        self.log(self.describe())
        self.log(describe(self.split))  # what is held out, by name
        if self.resumed_from is not None:
            self.log(f"resuming from step {self.step} of {self.tc.steps} ({self.resumed_from})")

    # --- the loop ---------------------------------------------------------------------
    def _flags(self, signalled: int, started: float, validated: bool) -> tuple[bool, bool, bool]:
        """(stop for a signal, validate now, save now), the same on every rank (rank 0's clock decides)."""
        now = time.monotonic()
        due = self.step % self.tc.valid_every == 0 or self.step == self.tc.steps
        early = not validated and now - started >= EARLY_VALIDATION_S  # so the bar soon shows a real best
        save = now - self.last_save >= 60.0 * self.tc.checkpoint_minutes
        flags = torch.tensor([float(signalled > 0), float(due or early), float(save)], device=self.device)
        if self.world > 1:
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return bool(flags[0]), bool(flags[1]), bool(flags[2])

    def _eta(self, t0: float, s0: int) -> None:
        per = (time.monotonic() - t0) / max(self.step - s0, 1)
        left = per * (self.tc.steps - self.step)
        self.log(f"about {_duration(left)} to step {self.tc.steps} ({per:.2f} s/step, validation not counted)")

    def run(self) -> dict:
        checkpoint.ensure_dir(self.run_dir)
        self._announce()
        net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        bar = tqdm(total=self.tc.steps, initial=self.step, disable=not self.progress or self.rank != 0,
                   desc="train", unit="step", dynamic_ncols=True)
        losses: dict = {}
        result: dict = {}
        batches = iter(self.batches)
        started, validated, s0 = time.monotonic(), False, self.step
        self.last_save = started
        with _SignalCatcher() as caught:
            while self.step < self.tc.steps:
                x, mask = next(batches)
                losses = self._train_step(net, x, mask)
                if not all(math.isfinite(v) for v in losses.values()):
                    raise SeqartError(f"training diverged at step {self.step}: loss {losses}")
                bar.update(1)
                best = f"{self.best:.3f}" if math.isfinite(self.best) else "-"
                bar.set_postfix(loss=f"{losses['nll']:.3f}", best=best)
                if self.step - s0 == ETA_AFTER_STEPS and self.rank == 0:
                    self._eta(started, s0)
                stop, validate, save = self._flags(caught.signum, started, validated)
                if stop:
                    result["interrupted"] = self._interrupted(caught.signum)
                    break
                if validate:
                    validated = True
                    if self._validate(losses):
                        result["stopped_early"] = self._stopped_early()
                        break
                elif save:
                    states = self._batch_states()  # every rank is here: the flags are the same on all
                    if self.rank == 0:
                        self._save(self.metrics, False, states)
                    self.last_save = time.monotonic()
        bar.close()
        return {"step": self.step, "best_valid_nll": self.best, "train": losses} | result

    def _interrupted(self, signum: int) -> str:
        """Save where we are (rank 0) and say so; the caller ends the process."""
        name = signal.Signals(signum).name if signum > 0 else "a signal on another rank"
        states = self._batch_states()  # every rank stops at the same step
        if self.rank == 0:
            self._save(self.metrics, False, states)
        line = (f"stopped by {name} at step {self.step} of {self.tc.steps}: saved {self.run_dir / 'latest'}; "
                "run the same command to resume")
        if self.rank == 0:
            self.log(line)
        return line

    def _stopped_early(self) -> str:
        line = (f"stopped early at step {self.step} of {self.tc.steps}: no better validation NLL in "
                f"{self.bad_checks} validations (train.patience = {self.tc.patience}); best {self.best:.4f} "
                f"in {self.run_dir / 'best'}")
        if self.rank == 0:
            self.log(line)
        return line


EARLY_VALIDATION_S = 60.0  # a first validation after about a minute, before valid_every comes round
ETA_AFTER_STEPS = 20  # steps timed before the estimate of the time left is printed


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(minutes, 1)} min"


class _SignalCatcher:
    """SIGINT and SIGTERM set `signum` instead of killing the loop, which then saves and stops.

    Only the main thread can install handlers; elsewhere (a training run from a worker thread)
    signals keep their usual effect. A second Ctrl-C while the checkpoint is written is ignored:
    the write is atomic anyway, and a half-finished save would only be thrown away.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        self.signum, self.old = 0, {}
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self.old[s] = signal.signal(s, self._catch)
        return self

    def _catch(self, signum, frame) -> None:
        self.signum = self.signum or signum

    def __exit__(self, *exc) -> None:
        for s, handler in self.old.items():
            signal.signal(s, handler)


def train(data: Path, run_dir: Path, cfg: dict, progress: bool = True, log=None, modality: str | None = None) -> dict:
    """Train (or resume) a run; under torchrun, sets up and tears down the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() and cfg["train"]["device"] != "cpu" else "gloo")
    try:
        trainer = Trainer(data, run_dir, cfg, progress, log, modality)
        result = trainer.run()
        if world > 1 and dist.is_initialized():
            # DDP's reducer holds the process group and sits in reference cycles: left to the
            # interpreter's exit, gloo's worker threads are torn down during finalisation and the
            # rank can abort ("terminate called without an active exception") after a good run.
            del trainer
            gc.collect()
            dist.barrier()  # every rank is past its last collective before any tears gloo down
        return result
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()
