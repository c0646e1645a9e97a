"""Whole-file generation: prime, sample with the shared Sampler, export.

The CLI's `sample`, `interpolate` and `demo` commands and the pieces in
`pieces/` all come through here; the live engine uses the same Sampler
frame by frame instead.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from seqart import family, limits, memory, spec
from seqart.clip import Clip
from seqart.errors import SeqartError
from seqart.modelio import load_model
from seqart.sample import Sampler, encode, slerp


FLAGS = {"n": "-n", "temperature": "--temperature", "bias": "--bias", "seed": "--seed", "frames": "--frames",
         "seconds": "--seconds", "prime_seconds": "--prime-seconds", "steps": "--steps"}


def check_generation(_names: str = "flags", **values) -> None:
    """One-line errors naming the flag (-n, --temperature, ...; with _names="python": the argument,
    n, temperature...), each value checked against seqart.spec."""
    for key, v in values.items():
        if v is not None:
            declared = spec.setting("--steps", spec.FLAGS) if key == "steps" else spec.setting(key)
            replace(declared, name=FLAGS[key] if _names == "flags" else key).check(v)


def sample_clips(run: Path, n: int = 1, temperature: float = 1.0, seed: int | None = 0,
                 prime: Path | None = None, prime_seconds: float | None = None,
                 max_frames: int | None = None, seconds: float | None = None,
                 bias: float = 0.0, greedy: bool = False, options: dict | None = None) -> list[Clip]:
    """n clips from a trained model; with a prime, each continues the primer (primer included)."""
    check_generation(n=n, temperature=temperature, frames=max_frames, seconds=seconds, prime_seconds=prime_seconds,
                     bias=bias, seed=seed)
    model, codec, meta = load_model(run)
    return generate_clips(model, codec, meta, n, temperature=temperature, seed=seed, primer=prime,
                          prime_seconds=prime_seconds, max_frames=max_frames, seconds=seconds, bias=bias, greedy=greedy, options=options,
                          name=model_name(run))


def generate_clips(model, codec, meta: dict, n: int = 1, *, temperature: float = 1.0, seed: int | None = 0,
                   primer: Clip | Path | None = None, prime_seconds: float | None = None,
                   max_frames: int | None = None, seconds: float | None = None,
                   bias: float = 0.0, greedy: bool = False, options: dict | None = None, name: str = "") -> list[Clip]:
    """n clips from a loaded model through the one Sampler; each clip's meta records how it was made.

    primer: a clip, or a file whose first sequence (its first `prime_seconds`) each clip continues;
    a file is read after the generation options are applied, since some shape the primer (prime_bars).
    """
    fam = family.of_model(model)  # an MDN-LSTM's Sampler or DRAW's CanvasSampler: the same step() contract
    sampler = fam.sampler(model, codec, temperature=temperature, bias=bias, greedy=greedy, seed=seed,
                          max_frames=max_frames or (None if seconds else fam.frame_limit(meta, model)))
    codec.configure_sampler(sampler, dict(options or {}))
    if primer is not None and not isinstance(primer, Clip):
        primer = codec.prime_clip(Path(primer), prime_seconds)
    # Without --frames: a --seconds request runs until that much time; otherwise the training window.
    limit = max_frames or (10**7 if seconds else meta["train"].get("max_len") or 1000)
    made = provenance(name, seed=seed, temperature=temperature, bias=bias, greedy=greedy, options=options,
                      primed=primer is not None)
    # Memory (seqart.memory): checked ahead where the frames a sequence may take are known; a
    # --seconds request is held to what is left of the budget as it runs.
    width = len(codec.channels)  # values a frame holds
    if not (seconds and not max_frames):
        memory.check_output(n, min(limit, sampler.max_frames or limit), width)
    budget = memory.output_budget(width)
    out = []
    for i in range(n):
        clip = sampler.generate(min(limit, budget), primer, seconds)
        budget -= len(clip)
        if budget <= 0:
            raise limits.over("memory_mb", f"n={n} sequences of seconds={seconds} s: the output passed")
        clip = codec.join(primer, clip) if primer is not None else clip
        out.append(clip.with_frames(clip.frames, meta=clip.meta | {"provenance": made | {"index": i}}))
    return out


def model_name(path) -> str:
    """How a model is named in provenance: a shipped model's name, else its folder's name."""
    p = Path(path)
    return p.parent.name if p.name in ("best", "latest") else p.name


def provenance(model: str, **how) -> dict:
    """What made a generated clip, for the files it is written to: JSON-able, with no clock in it,
    so the same seed still gives byte-identical files."""
    from seqart import __version__

    kept = {k: v for k, v in how.items() if v not in (None, False, {}, 0.0) or k in ("seed", "temperature")}
    return {"seqart": __version__, "model": model} | kept


def interpolate_clips(run: Path, a: Path, b: Path, steps: int = 8, temperature: float = 0.1,
                      seed: int | None = 0) -> list[Clip]:
    """Decode `steps` latents on the great circle between the encodings of A and B (VAE only)."""
    check_generation(steps=steps, temperature=temperature, seed=seed)
    model, codec, meta = load_model(run)
    if family.of_model(model).name != "mdn":
        raise SeqartError(f"{run}: interpolation is for sketch-rnn VAEs; DRAW's per-step latents are not interpolated yet")
    if not model.cfg.z_dim:
        raise SeqartError(f"{run}: interpolation needs a VAE model (train with --set model.z_dim=128)")
    za, zb = (encode(model, codec, codec.prime_clip(Path(p), None)) for p in (a, b))
    limit = meta["train"].get("max_len") or 1000
    out = []
    for t in np.linspace(0.0, 1.0, steps):
        sampler = Sampler(model, codec, temperature=temperature, seed=seed, z=slerp(za, zb, float(t)))
        out.append(sampler.generate(limit))
    return out
