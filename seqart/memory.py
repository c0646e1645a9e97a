"""Memory a request will need, estimated before anything is allocated, against SEQART_MAX_MEMORY_MB.

Every size setting has a range, but a value inside it can still ask for more memory than any
machine has (`--set model.hidden=65536` is 17 billion weights, `train.batch_size=1000000` a
terabyte of activations, `-n 1000000 --frames 10000000` a petabyte of frames). Such a request is
refused in one line naming the settings, before torch or NumPy fail with a MemoryError that names
none. The estimates are coarse on purpose (within a factor of about two), and the limit is
seqart.limits' "memory_mb", which a user with the memory raises.

Training: the weights are counted exactly by building the model on torch's "meta" device (no
memory), times 4 for weights, gradients and Adam's two moments; activations are a batch of
windows times what each step keeps for the backward pass (about 10 floats per LSTM unit: the
gates, cell and output; 2 per output of a linear layer; 4 per pixel of a DRAW canvas), twice
over (KEEP: checked against measured peaks by benchmarks/memory_estimate.py).
Generation: each frame kept costs its float32 values plus a small array's overhead.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from seqart import limits, spec
from seqart.errors import SeqartError

BYTES = 4  # float32
FRAME_OVERHEAD = 120  # bytes a generated frame costs beside its values (a small NumPy array in a list)
DEFAULT_WINDOW = 1000  # frames assumed for a training window when train.max_len = 0 (whole sequences)


def count_weights(fam, settings: dict, codec) -> tuple[nn.Module, int]:
    """(the model built on the meta device, its number of weights): shapes only, no memory."""
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch notes a zero-size layer of a codec not fitted yet
        model = fam.build(settings, codec)
    return model, sum(p.numel() for p in model.parameters())


def step_floats(fam, model: nn.Module) -> int:
    """Floats one sequence keeps per step for the backward pass (a coarse count, module by module,
    plus what the family says its step keeps beside them)."""
    n = int(fam.step_extra_floats(model))
    for m in model.modules():
        if isinstance(m, nn.LSTM):
            n += 10 * m.hidden_size * m.num_layers * (2 if m.bidirectional else 1)
        elif isinstance(m, nn.LSTMCell):
            n += 10 * m.hidden_size
        elif isinstance(m, nn.Linear):
            n += 2 * m.out_features
    return n


def training_bytes(fam, cfg: dict, codec) -> int:
    """Estimated bytes to train a model of cfg["model"] on batches of cfg["train"]."""
    model, weights = count_weights(fam, cfg["model"], codec)
    steps = fam.train_steps(model, cfg["train"]) or DEFAULT_WINDOW
    return BYTES * (4 * weights + KEEP * int(cfg["train"]["batch_size"]) * steps * step_floats(fam, model))


# The counts of step_floats come to 0.6 (MDN) to 0.9 (DRAW) of the peak a real training step adds
# (benchmarks/results/memory_estimate.json: autograd's extra copies, the allocator's slack); twice
# them keeps the estimate at or above what is measured.
KEEP = 2


def check_training(fam, cfg: dict, codec) -> None:
    """Refuse, in one line naming the settings, a model and batch estimated over the memory limit."""
    need = training_bytes(fam, cfg, codec)
    if need > limits.get("memory_mb") * 2**20:
        limits.check("memory_mb", round(need / 2**20), f"{size_settings(fam, cfg)}: a model and training batch of about")


SIZES = ("train.batch_size", "train.max_len")  # the [train] settings the estimate grows with


def size_settings(fam, cfg: dict) -> str:
    """The size settings set above their defaults ("model.hidden=65536"), or else all of them."""
    names = _grown(spec.MODELS[fam.name], cfg) + _grown([s for s in spec.TRAIN if s.name in SIZES], cfg)
    if not names:
        names = [f"model.{k}={v}" for k, v in cfg["model"].items() if _is_size(v)] + \
                [f"train.{k}={cfg['train'][k]}" for k in ("batch_size", "max_len")]
    return ", ".join(names)


def _grown(table, cfg: dict) -> list[str]:
    """"section.key=value" of the integer settings of `table` set above their defaults."""
    out = []
    for s in table:
        section, key = s.name.split(".", 1)
        v = cfg.get(section, {}).get(key)
        if s.type is int and _is_size(v) and s.default is not None and v > s.default:
            out.append(f"{s.name}={v}")
    return out


def _is_size(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def frame_bytes(channels: int) -> int:
    return BYTES * channels + FRAME_OVERHEAD


def check_output(n: int, frames: int, channels: int) -> None:
    """Refuse n sequences of up to `frames` frames of `channels` values estimated over the limit."""
    need = n * frames * frame_bytes(channels)
    limits.check("memory_mb", round(need / 2**20), f"n={n} sequences of up to frames={frames} frames: about")


def output_budget(channels: int) -> int:
    """Frames of `channels` values that fit the memory limit, for output whose length is not known ahead."""
    return max(1, int(limits.get("memory_mb") * 2**20 // frame_bytes(channels)))


def allocation_failed(e: BaseException) -> bool:
    """Whether e is torch's or Python's way of saying an allocation failed."""
    return isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and "allocate" in str(e))


def refuse_allocation(what: str, e: BaseException) -> SeqartError:
    return SeqartError(f"{what}: could not allocate the memory it needs ({type(e).__name__}); "
                       f"choose smaller settings (the estimate checked against {limits.LIMITS['memory_mb'].env('memory_mb')} "
                       "passed, so this machine has less free memory than the limit allows)")
