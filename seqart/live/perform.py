"""`seqart perform`: load a piece, wire model, clock, outputs and controls, and play.

The CLI calls `perform()` and `list_outputs()`; `status(line)` is how anything
reaches the person (library code never prints). Stop with Ctrl-C or SIGTERM:
either way every sounding note gets its note-off before the process ends,
and so does an error in any of the engine's threads.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Callable

import torch

from seqart.errors import SeqartError
from seqart.live.clock import make_clock
from seqart.live.control import ControlServer
from seqart.live.engine import Engine
from seqart.live.events import renderer_for
from seqart.live.piece import load_piece, resolve_path


def load_voice(cfg: dict, model_text: str | None = None):
    """(Sampler, Renderer, name) for the piece's model (or another model)."""
    from seqart import family
    from seqart.modelio import load_model

    p = cfg["piece"]
    text = model_text or p["model"]
    if not text:
        raise SeqartError("piece: set [piece] model (a run folder, model folder or shipped model name)")
    path = resolve_path(cfg, text)
    model, codec, meta = load_model(path)
    fam = family.of_model(model)  # the one stepwise generator contract: MDN-LSTM or DRAW
    seed = None if p["seed"] < 0 else p["seed"]
    sampler = fam.sampler(model, codec, temperature=p["temperature"], bias=p["bias"], seed=seed,
                          max_frames=fam.frame_limit(meta, model))
    codec.configure_sampler(sampler, dict(cfg.get("options") or {}))
    if p["prime"] and model_text is None:
        sampler.prime(codec.prime_clip(resolve_path(cfg, p["prime"]), p["prime_seconds"] or None))
    renderer = renderer_for(codec, cfg["render"], cfg["render"]["prefix"])
    return sampler, renderer, Path(text).name


def ref_bpm(cfg: dict, codec) -> float:
    """The tempo at which model seconds play as written: the piece's, the codec's, or the tempo."""
    return cfg["clock"]["ref_bpm"] or float(codec.options.get("ref_bpm") or 0.0) or cfg["clock"]["tempo"]


def make_sinks(cfg: dict) -> list:
    from seqart.live.osc_out import OscTcpSink, OscUdpSink

    o, m, sinks = cfg["osc"], cfg["midi"], []
    if o["target"]:
        if o["protocol"] == "udp":
            sinks.append(OscUdpSink(o["target"], o["mode"], o["ahead_ms"], o["latency_ms"], cfg["render"]["prefix"]))
        elif o["protocol"] == "tcp":
            sinks.append(OscTcpSink(o["target"], o["mode"], o["ahead_ms"], o["latency_ms"], o["framing"],
                                    cfg["render"]["prefix"]))
        else:
            raise SeqartError(f"osc.protocol must be udp or tcp, not {o['protocol']!r}")
    if m["port"]:
        from seqart.live.midi_out import MidiSink

        sinks.append(MidiSink(m["port"], m["api"], m["latency_ms"]))
    if not sinks:
        raise SeqartError("piece has no output: set [osc] target or [midi] port (or --osc HOST:PORT / --midi PORT)")
    return sinks


def build(cfg: dict, status: Callable[[str], None]):
    """(engine, [things to close]) from a loaded piece config."""
    sampler, renderer, name = load_voice(cfg)
    c = cfg["clock"]
    clock = make_clock(c["source"], c["tempo"], c["beats_per_bar"])
    p = cfg["piece"]
    engine = Engine(sampler, renderer, clock, make_sinks(cfg), status, lookahead=p["lookahead"],
                    ref_bpm=ref_bpm(cfg, sampler.codec), on_end=p["on_end"], gap_beats=p["gap_beats"],
                    status_every=p["status_every"], name=p["title"] or name, rt_priority=20 if p["realtime"] else 0)
    closers = []
    if cfg["control"]["osc_port"]:
        def loader(kind: str, text: str):
            """Runs on the control thread; the tempo and reference tempo change only once the load worked."""
            if kind == "model":
                sampler, renderer, name = load_voice(cfg, text)
                return sampler, renderer, name, True, ref_bpm(cfg, sampler.codec)  # keeps the temperature
            new = load_piece(resolve_path(cfg, text))
            sampler, renderer, name = load_voice(new)
            engine.command("tempo", new["clock"]["tempo"])
            return sampler, renderer, new["piece"]["title"] or name, False, ref_bpm(new, sampler.codec)

        closers.append(ControlServer(engine, cfg["control"]["osc_port"], cfg["control"]["host"], status, loader,
                                     cfg["render"]["prefix"]))
    listen = cfg["listen"]
    if listen["port"]:
        from seqart.live.midi_in import MidiListener

        closers.append(MidiListener(engine, listen["port"], listen["api"], clock, listen["respond"],
                                    listen["silence_beats"], listen["answer_beats"], status))
    elif c["source"] == "midi":
        raise SeqartError("clock.source = \"midi\" needs [listen] port (where the MIDI clock comes from)")
    return engine, closers


def perform(piece: Path, duration: float | None = None, osc: str | None = None, midi: str | None = None,
            sets: list[str] = (), status: Callable[[str], None] = lambda line: None) -> dict:
    """Play a piece until `duration` seconds (or the piece's), Ctrl-C or SIGTERM; returns the stats."""
    torch.set_num_threads(1)  # a second thread collapses under load (PERFORMANCE.md)
    cfg = load_piece(piece, list(sets))
    if osc:  # the pinned flags re-route a piece without editing it
        cfg["osc"]["target"] = osc
    if midi:
        cfg["midi"]["port"] = midi
    if duration is not None and duration <= 0:
        raise SeqartError(f"--duration must be > 0 seconds, not {duration}")
    engine, closers = build(cfg, status)
    outs = ", ".join(s.name for s in engine.sched.sinks)
    ctl = next((f" | control osc {c.host}:{c.port}" for c in closers if isinstance(c, ControlServer)), "")
    status(f"performing {engine.name} -> {outs}{ctl} (Ctrl-C stops)")
    old = _signals_to_interrupt()
    try:
        engine.start()
        engine.run(duration or cfg["piece"]["duration"] or None)
    except KeyboardInterrupt:
        status("stopping: all notes off")
    finally:
        # Notes end first; a second Ctrl-C or SIGTERM while cleaning up must not cut that short.
        _ignore_signals()
        engine.stop()
        for c in closers:
            c.close()
        _restore_signals(old)
    st = engine.stats()
    status(f"done: {st['frames']} frames, {st['sent']} messages sent, {st['late']} late "
           f"(max {st['max_late_ms']:.2f} ms), {st['dropped']} dropped, {st['resyncs']} resyncs")
    return st


STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl-C, kill, the terminal closing


def _signals_to_interrupt() -> dict | None:
    """SIGTERM and SIGHUP end a performance like Ctrl-C does (so notes are ended); main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = {}
    for name in STOP_SIGNALS[1:]:
        if hasattr(signal, name):
            old[name] = signal.signal(getattr(signal, name), handler)
    old["SIGINT"] = signal.getsignal(signal.SIGINT)
    return old


def _ignore_signals() -> None:
    if threading.current_thread() is threading.main_thread():
        for name in STOP_SIGNALS:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_IGN)


def _restore_signals(old: dict | None) -> None:
    for name, handler in (old or {}).items():
        signal.signal(getattr(signal, name), handler if handler is not None else signal.SIG_DFL)


def list_outputs() -> list[str]:
    """Lines describing where `perform` can send: MIDI ports by API, and the OSC/TCP forms."""
    from seqart.live.midi_out import list_ports

    lines = []
    for api in ("alsa", "jack"):
        if api == "alsa" and not os.path.exists("/dev/snd/seq"):
            lines.append("midi (alsa): unavailable (no /dev/snd/seq: no ALSA sequencer on this machine)")
            continue
        try:
            ports = list_ports(api)
            lines += [f"midi ({api}): {p}" for p in ports] or [f"midi ({api}): no ports"]
        except SeqartError as e:
            lines.append(f"midi ({api}): unavailable: {str(e).split(': ', 1)[-1]}")
    lines += ["midi: virtual:NAME (a port of our own, JACK or ALSA)",
              "midi: tcp:HOST:PORT (mido.sockets, raw MIDI over TCP)",
              "osc: HOST:PORT over UDP (default) or TCP (--set osc.protocol=tcp)"]
    return lines
