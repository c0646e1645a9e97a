"""Shared pieces for the live tests: a tiny model trained in seconds, a piece file, free ports."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import torch

from seqart import checkpoint
from seqart.codecs.strokes import StrokesCodec, strokes_to_stroke3, stroke3_to_clip
from seqart.data import pad
from seqart.model import MDNLSTM, ModelConfig

ROOT = Path(__file__).resolve().parent.parent
SHEEP = ROOT / "datasets" / "sketches" / "aaron_sheep_small.npz"


def stroke_clips(rate: float) -> list:
    """Real sheep drawings when the shipped sample is here; otherwise hand-made polylines."""
    codec = StrokesCodec({"rate": rate})
    if SHEEP.exists():
        clips = [c for s in codec.read(SHEEP).values() for c in s][:24]
        return [c.with_frames(c.frames, fps=rate) for c in clips]
    t = np.linspace(0, 2 * np.pi, 24)
    shapes = [[np.column_stack([np.cos(t) * r, np.sin(t) * r]), np.array([[0, 0], [r, r]])] for r in range(5, 40)]
    return [stroke3_to_clip(strokes_to_stroke3(s), rate=rate) for s in shapes]


def note_clips(codec) -> list:
    """Real melodies from the shipped Nottingham sample, else a folk tune written out here."""
    folder = ROOT / "datasets" / "midi" / "nottingham"
    files = sorted(folder.glob("*.mid"))[:1] if folder.exists() else []
    clips = [c for f in files for s in codec.read(f).values() for c in s]
    if clips:
        return clips[:16]
    from seqart.codecs.notes import notes_to_clip

    tune = [60, 62, 64, 60, 60, 62, 64, 60, 64, 65, 67, 64, 65, 67]  # Frere Jacques
    notes = np.array([[0.25 * i, 0.24, p, 90, 0] for i, p in enumerate(tune * 4)], np.float64)
    return [notes_to_clip(notes, {"bpm": 120.0})]


def train_tiny(folder: Path, rate: float = 200.0, hidden: int = 32, steps: int = 15, seed: int = 0,
               modality: str = "strokes") -> Path:
    """A small model (hidden 32) trained for a few Adam steps; saved as a checkpoint folder."""
    torch.manual_seed(seed)
    if modality == "notes":
        from seqart.codecs.notes import NotesCodec

        codec = NotesCodec()
        clips = note_clips(codec)
    else:
        clips = stroke_clips(rate)
        codec = StrokesCodec({"rate": rate})
    codec.fit_norm(clips)
    cfg = ModelConfig(layout=codec.layout.to_json(), hidden=hidden, mixtures=3)
    model = MDNLSTM(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, mask = pad([codec.to_model(c)[:60] for c in clips])
    for _ in range(steps):
        _, losses = model(x, mask)
        opt.zero_grad()
        losses["nll"].backward()
        opt.step()
    meta = {"model": cfg.to_json(), "codec": codec.config(), "train": {"max_len": 250}, "step": steps,
            "metrics": {"nll": float(losses["nll"].detach())}}
    checkpoint.save(folder, {"model": model.state_dict()}, {"model": meta})
    return folder


def free_port(kind=socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_piece(path: Path, model: Path, **sections) -> Path:
    """A piece TOML: [piece] model=..., plus the given {section: {key: value}} tables."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return repr(v)

    lines = ["[piece]", f"model = {val(str(model))}"]
    for name, table in sections.items():
        if name == "piece":
            lines += [f"{k} = {val(v)}" for k, v in table.items()]
            continue
        lines += ["", f"[{name}]"] + [f"{k} = {val(v)}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def voice(folder: Path, temperature: float = 0.8, seed: int = 0):
    """(sampler, renderer) for a checkpoint folder."""
    from seqart.live.events import renderer_for
    from seqart.modelio import load_model
    from seqart.sample import Sampler

    model, codec, _ = load_model(folder)
    return Sampler(model, codec, temperature=temperature, seed=seed), renderer_for(codec, {})


def run_engine(folder: Path, seconds: float, sinks=None, tempo: float = 120.0, commands=(), **kw):
    """Play a tiny model for `seconds` into an echo sink (or `sinks`), queueing `commands`
    [(at_seconds, name, args)]; returns (engine, echo, status lines)."""
    import time

    from seqart.live.clock import InternalClock
    from seqart.live.engine import Engine
    from seqart.live.sinks import EchoSink

    sampler, renderer = voice(folder)
    echo, lines = EchoSink(), []
    kw.setdefault("gap_beats", 0.02)  # the tiny models end sequences early: keep the stream dense
    eng = Engine(sampler, renderer, InternalClock(tempo), sinks or [echo], lines.append, **kw)
    eng.start()
    t0 = time.time()
    try:
        for at, name, args in commands:
            time.sleep(max(0.0, t0 + at - time.time()))
            eng.command(name, *args)
        eng.run(max(0.05, t0 + seconds - time.time()))
    finally:
        eng.stop()
    return eng, echo, lines
