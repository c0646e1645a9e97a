"""Mixed precision for training: bf16 autocast where the hardware has it.

On a CPU with AVX-512 BF16 (or AMX) a bf16 matmul runs about 4x faster than
fp32, and the fused LSTM's forward+backward about 2x (PERFORMANCE.md). Under
`torch.autocast` the recurrent layers run in bf16 while the weights, the
optimiser and the gradients stay fp32. The mixture head, its log-sum-exp,
correlations and the loss are computed in fp32 (the model turns autocast off
around them), because bf16 keeps only 8 bits of mantissa: a log-likelihood
summed over hundreds of frames would lose its last digits, and 1 - rho^2
near 1 would round to 0.

bf16 needs no loss scaling (it has fp32's exponent range), so there is no
GradScaler on either device.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from seqart.errors import SeqartError


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX), from the kernel's CPU flags."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: ask oneDNN, which knows on every platform it supports
        return bool(getattr(torch.backends.mkldnn, "is_available", lambda: False)()) and _onednn_bf16()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _onednn_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve(precision: str, device: torch.device) -> str:
    """"auto" -> "bf16" where the device computes it natively, else "fp32"; "bf16" where it cannot is an error."""
    native = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_bf16()
    if precision == "auto":
        return "bf16" if native else "fp32"
    if precision == "bf16" and not native:
        raise SeqartError(f"train.precision = bf16, but this {device.type.upper()} has no native bf16 "
                          "(it would run slower than fp32); use auto or fp32")
    return precision


def autocast(precision: str, device: torch.device):
    """The context a training forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def full_precision(device_type: str):
    """Turn autocast off for a block (the mixture head and loss): inputs must be cast to fp32 by the caller."""
    return torch.autocast(device_type=device_type, enabled=False)
