"""One browser tab's WebSocket: models, continuations, temperature, export and the Inside views.

A continuation primes the model's one Sampler (`Model.sampler`, the same that file export and
the live engine step) and streams each frame as it is drawn, as the live engine's events
(seqart.studio.primers). Its steps run on a worker thread, so the socket keeps answering (a new
temperature, a stop) while it streams; the other commands (loading a model, priming it, Inside)
are answered one after another, each also off the event loop. Every message is checked first
(seqart.studio.protocol); an error in one is answered with `{"type": "error"}` and the tab's
socket, like the server, goes on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json

import numpy as np

from seqart.errors import SeqartError
from seqart.studio import protocol
from seqart.studio.primers import primer

MATCH_CLIPS = 20  # other sequences of an uploaded file that the match view searches
STREAM_FRAMES = 500  # a model without an end token (notes, poses) stops here unless asked otherwise


class Session:
    def __init__(self, ws, catalog, uploads):
        self.ws, self.catalog, self.uploads = ws, catalog, uploads
        self.task: asyncio.Task | None = None
        self.sampler = None
        self.stop_event = asyncio.Event()  # set by a stop: the running continuation ends at once, paced or not
        self.inside = None  # the last Inside result (seqart.studio.inside), for select and match
        self.last = None  # (model, primer clip or None, generated frames) of the last continuation, for export
        self.link = None  # the Perform page's link to a running show (seqart.studio.monitor)
        self.relay: asyncio.Task | None = None  # passes the show's events on in batches

    async def send(self, obj: dict) -> None:
        await self.ws.send_text(json.dumps(obj, separators=(",", ":")))

    async def error(self, message: str, msg_id=None) -> None:
        await self.send({"type": "error", "message": " ".join(str(message).split())[:500], "id": msg_id})

    async def handle(self, text) -> None:
        """Check and answer one message; never raises."""
        msg_id = None
        try:
            msg = protocol.parse(text)
            msg_id = msg.get("id")
            await getattr(self, "_" + msg["cmd"])(msg)
        except SeqartError as e:
            await self.error(str(e), msg_id)
        except Exception as e:  # noqa: BLE001 - a reader's or model's error on bad input: a message, not a crash
            await self.error(f"{type(e).__name__}: {e}", msg_id)

    async def close(self) -> None:
        await self._stop({})
        await self._unmonitor({})

    # --- commands ---------------------------------------------------------------------------
    async def _models(self, msg) -> None:
        await self.send({"type": "models", "models": self.catalog.listing(), "id": msg.get("id")})

    async def _continue(self, msg) -> None:
        await self._stop({})
        model = await asyncio.to_thread(self.catalog.load, msg["model"])
        clip, options = await asyncio.to_thread(primer, model, msg, self.uploads)
        temperature = msg.get("temperature", 1.0)
        sampler = model.sampler(temperature=temperature, seed=msg.get("seed"))
        if sampler.max_frames is None:
            sampler.max_frames = msg.get("frames", None if "seconds" in msg else STREAM_FRAMES)
        elif "frames" in msg:
            sampler.max_frames = min(sampler.max_frames, msg["frames"])
        from seqart.live.events import renderer_for

        renderer = renderer_for(model.codec, options)
        if clip is not None:
            await asyncio.to_thread(sampler.prime, clip)
        self.sampler, self.stop_event = sampler, asyncio.Event()
        self.last = (model, clip, [])
        start = {"type": "start", "id": msg.get("id"), "model": model.name, "modality": model.modality,
                 "temperature": sampler.temperature, "primed": 0 if clip is None else len(clip)}
        await self.send(start | renderer.view())
        t0 = await self._primer_events(msg, clip, renderer)
        self.task = asyncio.create_task(self._stream(msg.get("id"), sampler, renderer, msg.get("seconds"),
                                                     msg.get("pace", 0.0), t0, self.stop_event))

    async def _primer_events(self, msg, clip, renderer) -> float:
        """The primer's time in seconds (generated frames follow it); its events too, with echo."""
        if clip is None:
            return 0.0
        t = 0.0
        for frame in clip.frames[~end_frames(clip, renderer.codec)]:
            t += renderer.seconds(frame)
            if msg.get("echo"):
                for ev in renderer.events(frame, t, 1.0):
                    await self.send({"type": "event", "id": msg.get("id"), "primer": True, "t": round(t, 6),
                                     "address": ev.address, "args": list(ev.args)})
        return t

    async def _stream(self, msg_id, sampler, renderer, seconds, pace: float, t0: float, stop: asyncio.Event) -> None:
        """Step the sampler on a worker thread; send each frame's events with its time in seconds
        (after the primer's t0), at `pace` times the model's time (0: as fast as it goes), until
        the model ends, `seconds` have passed, or `stop` is set (also in the middle of a paced wait)."""
        t, n, reason = t0, 0, "end"
        loop = asyncio.get_running_loop()
        began = t_first = None  # the first frame goes at once; the others at pace after it
        kept = self.last[2]
        try:
            while True:
                if stop.is_set():
                    reason = "stopped"
                    break
                frame = await asyncio.to_thread(sampler.step)
                if frame is None:  # the end token, or the frame limit
                    break
                t += renderer.seconds(frame)
                if began is None:
                    began, t_first = loop.time(), t
                elif pace > 0 and await _set_within(stop, began + (t - t_first) / pace - loop.time()):
                    reason = "stopped"
                    break
                n += 1
                kept.append(frame)
                for ev in renderer.events(frame, t, 1.0):  # beats = seconds: one beat a second
                    await self.send({"type": "event", "id": msg_id, "i": n, "t": round(t, 6),
                                     "address": ev.address, "args": list(ev.args), "T": sampler.temperature})
                if seconds is not None and t - t0 >= seconds:
                    reason = "seconds"
                    break
            await self.send({"type": "end", "id": msg_id, "frames": n, "seconds": round(t - t0, 6), "reason": reason})
        except Exception as e:  # noqa: BLE001 - a model failed mid-way, or the socket closed
            # Said if the socket is still there; never raised: `_stop` and `close` await this task.
            with contextlib.suppress(Exception):
                await self.error(str(e) if isinstance(e, SeqartError) else f"{type(e).__name__}: {e}", msg_id)

    async def _temperature(self, msg) -> None:
        if self.sampler is not None:
            self.sampler.set_temperature(msg["value"])
        await self.send({"type": "temperature", "value": msg["value"], "id": msg.get("id")})

    async def _stop(self, msg) -> None:
        if self.task is not None and not self.task.done():
            self.stop_event.set()
            await self.task
        self.task = None
        if msg:
            await self.send({"type": "stopped", "id": msg.get("id")})

    async def _export(self, msg) -> None:
        """The drawing or phrase on the page (or the last continuation) as a file, by seqart's writers."""
        model = await asyncio.to_thread(self.catalog.load, msg["model"])
        clip, _ = await asyncio.to_thread(primer, model, msg, self.uploads)
        if clip is None:
            clip = self._last_clip(model)
        data = await asyncio.to_thread(_written, clip, msg["format"])
        await self.send({"type": "file", "id": msg.get("id"), "format": msg["format"],
                         "name": f"seqart-{model.name}.{msg['format']}", "data": base64.b64encode(data).decode()})

    # --- Perform: watch and steer a running seqart perform ------------------------------------
    async def _monitor(self, msg) -> None:
        from seqart.studio.monitor import Link

        await self._unmonitor({})
        self.link = Link(msg["control"])
        port = await self.link.open()
        self.relay = asyncio.create_task(self._relay(self.link))
        await self.send({"type": "monitoring", "id": msg.get("id"), "port": port, "control": msg["control"]})

    async def _relay(self, link) -> None:
        """Pass the show's events on every BATCH_S; ask again each second until some come (the
        show may start after the page connects, and a UDP request can be lost)."""
        from seqart.studio.monitor import BATCH_S

        asked = asyncio.get_running_loop().time()
        with contextlib.suppress(Exception):  # the socket or the link closed: nothing left to relay to
            while link.monitor is not None:
                if link.monitor.received == 0 and asyncio.get_running_loop().time() - asked > 1.0:
                    link.send("/seqart/monitor", [link.port])
                    asked = asyncio.get_running_loop().time()
                batch = link.monitor.batch()
                if batch["events"] or batch["received"]:
                    await self.send(batch)
                await asyncio.sleep(BATCH_S)

    async def _unmonitor(self, msg) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None
        if self.relay is not None:
            self.relay.cancel()
            self.relay = None
        if msg:
            await self.send({"type": "unmonitored", "id": msg.get("id")})

    async def _steer(self, msg) -> None:
        from seqart.studio.monitor import steer_args

        args = steer_args(msg["address"], msg.get("args", []))
        if self.link is None:
            raise SeqartError("steer: connect to a running show first")
        self.link.send(msg["address"], args)
        await self.send({"type": "steered", "id": msg.get("id"), "address": msg["address"], "args": args})

    def _last_clip(self, model):
        """The last continuation of this model (its primer and what was generated) as one clip."""
        from seqart.clip import Clip

        if self.last is None or self.last[0] is not model or not self.last[2]:
            raise SeqartError("export: nothing to export yet (continue or generate first)")
        _, primer_clip, frames = self.last
        codec = model.codec
        made = Clip(np.asarray(frames, np.float32), codec.layout.channels, codec.modality, **codec.clip_defaults())
        return codec.join(primer_clip, made) if primer_clip is not None else made

    async def _inside(self, msg) -> None:
        from seqart import family

        model = await asyncio.to_thread(self.catalog.load, msg["model"])
        others = []
        if "upload" in msg:  # a file's first sequence; the next ones are searched by the match view
            clips = await asyncio.to_thread(self._read_upload, model, msg["upload"])
            clip, others = clips[0], clips[1:MATCH_CLIPS + 1]
        elif model.codec.primable:  # the page's drawing or phrase
            clip, _ = await asyncio.to_thread(primer, model, msg, self.uploads)
        else:  # a model that continues nothing (DRAW) is looked into as it draws from nothing
            clip = None
        self.inside = await asyncio.to_thread(family.of_model(model.model).inside, model, clip, others)
        await self.send({"type": "inside", "id": msg.get("id")} | self.inside.to_json())

    def _read_upload(self, model, key: str) -> list:
        from pathlib import Path

        clips = [c for split in model.codec.read(Path(self.uploads.path(key))).values() for c in split]
        if not clips:
            raise SeqartError("upload: no sequence in this file")
        return clips

    async def _select(self, msg) -> None:
        from seqart.studio.lstmvis import select_and_match

        if self.inside is None:
            raise SeqartError("select: open a clip in Inside first")
        cells, spans = select_and_match(self.inside, msg["span"], msg["threshold"], msg.get("state", "h"),
                                        msg.get("layer", -1))
        await self.send({"type": "select", "id": msg.get("id"), "span": list(msg["span"]), "cells": cells.tolist(),
                         "matches": [list(s) for s in spans]})


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` is set within `seconds` (a paced wait that a stop cuts short)."""
    try:
        await asyncio.wait_for(event.wait(), max(0.0, seconds))
    except asyncio.TimeoutError:
        return False
    return True


def end_frames(clip, codec) -> np.ndarray:
    """(T,) True on a clip's end frames (strokes: pen = end), which a primer does not play."""
    end = codec.layout.end
    if end is None or end[0] not in clip.channels:
        return np.zeros(len(clip), bool)
    return clip.channel(end[0]) == end[1]


def _written(clip, fmt: str) -> bytes:
    """The bytes seqart's writer for `fmt` makes of one clip (through a private temporary file,
    so each writer picks text or binary itself)."""
    import tempfile
    from pathlib import Path

    from seqart.export import export_clips

    with tempfile.TemporaryDirectory(prefix="seqart-studio-export-") as tmp:
        path = Path(tmp) / f"clip.{fmt}"
        export_clips([clip], path)
        return path.read_bytes()
