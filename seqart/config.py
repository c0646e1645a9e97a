"""Run settings: defaults, a TOML file, then `--set section.key=value` overrides.

Every key must already exist in its section's defaults, so a typo fails
loudly instead of being ignored. Values from `--set` are parsed as TOML
values (numbers, booleans, strings, lists) and must keep the default's type.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from seqart import spec
from seqart.errors import SeqartError


@dataclass
class TrainConfig:
    steps: int = 10000
    batch_size: int = 100
    lr: float = 1e-3
    lr_decay: float = 0.9999  # per step: lr = (lr - min_lr) * decay^step + min_lr (sketch-rnn)
    min_lr: float = 1e-5
    grad_clip: float = 1.0
    max_len: int = 250  # frames per training window; 0 = whole sequences
    augment: bool = True
    seed: int = 0
    valid_every: int = 500
    patience: int = 0  # stop after this many validations without improvement; 0 = never
    kl_weight: float = 0.5  # VAE only: final weight of the KL term
    kl_weight_start: float = 0.01
    kl_decay: float = 0.99995  # weight = kl_weight - (kl_weight - start) * decay^step
    kl_min: float = 0.2  # KL tolerance (nats per latent dim): no pressure below it
    threads: int = 1  # torch threads per process; 1 stays fast when other work shares the CPU
    device: str = "auto"  # "auto", "cpu" or "cuda"
    precision: str = "auto"  # "auto" (bf16 where the CPU or GPU has it, else fp32), "bf16" or "fp32"
    checkpoint_minutes: float = 5.0  # save latest/ at least this often (besides every validation)
    autocond_own: int = 0  # auto-conditioning (seqart/autocond.py): frames fed from the model per cycle; 0 = teacher forcing
    autocond_gt: int = 5  # ... frames fed from the data per cycle
    autocond_ramp: int = 0  # ... steps over which the own span grows from 1 frame to autocond_own
    autocond_feed: str = "sample"  # ... "sample" (a draw from the head) or "mean" (most likely component)
    init: str = ""  # fine-tune: start from this model's weights (run folder, model folder or shipped name)


def defaults(codec_options: dict, family: str = "mdn") -> dict[str, dict]:
    """Every setting with its default; the model section holds the model family's settings
    (seqart.family), the codec section that codec's options."""
    from seqart.family import get

    model = get(family).settings()
    train = {f.name: f.default for f in fields(TrainConfig)}
    return {"model": model, "train": train, "codec": dict(codec_options)}


def parse_value(text: str):
    """A --set value as TOML (3, 0.5, true, \"x\", [1, 2]); a bare word is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string
    except RecursionError:
        raise SeqartError(f"{text[:40]}...: a value nested too deeply") from None


def set_setting(cfg: dict, section: str, key: str, value, source: str) -> None:
    """cfg[section][key] = value, if the key exists and the value has its default's type."""
    known = set(cfg[section])
    if key not in known:
        raise SeqartError(f"{source}: unknown setting {section}.{key} (known: {', '.join(sorted(known))})")
    old = cfg[section].get(key)
    if old is not None and not _same_kind(old, value):
        raise SeqartError(f"{source}: {section}.{key} must be {type(old).__name__}, not {value!r}")
    cfg[section][key] = float(value) if isinstance(old, float) else value


def _same_kind(old, value) -> bool:
    if isinstance(old, bool) or isinstance(value, bool):
        return isinstance(old, bool) and isinstance(value, bool)
    if isinstance(old, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(old))


def merge(cfg: dict, toml_file: Path | None, sets: list[str], family: str = "mdn", codec_settings=()) -> dict:
    """Apply a TOML file ([model], [train], [codec] tables) and then KEY=VALUE overrides, and check
    them against the spec: run settings, the model `family`'s, and the codec's (Codec.settings)."""
    learnt = {s.name.removeprefix("codec.") for s in codec_settings if s.learnt}
    if toml_file is not None:
        from seqart.limits import read_toml

        data = read_toml(toml_file)  # a regular file; one line for a folder, a FIFO or deep nesting
        for section, table in data.items():
            if section not in cfg or not isinstance(table, dict):
                raise SeqartError(f"{toml_file}: unknown section [{section}] (known: model, train, codec)")
            for k, v in table.items():
                _not_learnt(section, k, learnt, str(toml_file))
                set_setting(cfg, section, k, v, str(toml_file))
    for item in sets:
        key, eq, text = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not eq or not dot or section not in cfg:
            raise SeqartError(f"--set {item}: expected SECTION.KEY=VALUE with SECTION one of model, train, codec")
        _not_learnt(section, name, learnt, f"--set {item}")
        set_setting(cfg, section, name, parse_value(text.strip()), f"--set {item}")
    spec.check(spec.TRAIN + spec.MODELS[family] + list(codec_settings), cfg)
    return cfg


def _not_learnt(section: str, key: str, learnt: set, source: str) -> None:
    if section == "codec" and key in learnt:
        raise SeqartError(f"{source}: codec.{key} is learnt from the training data and kept with the model, "
                          "not a setting")
