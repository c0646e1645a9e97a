"""Read Standard MIDI Files into note arrays, checking the bytes before any parser sees them.

A note array is `(N, 5)` float64 rows `(start_s, dur_s, pitch, velocity, program)`
sorted by start then pitch: start and duration in seconds (tempo changes already
applied by pretty_midi), pitch and velocity as MIDI numbers (1..127), program
the General MIDI program 0..127, or 128 for drums (channel 10).

The chunk structure is walked first (`check_smf`), so a non-MIDI file, a
truncated one or a chunk that claims more bytes than the file holds becomes one
clear `SeqartError` instead of a parser exception or a huge allocation. The
parsers only ever see an in-memory copy of at most `MAX_BYTES`.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
from pathlib import Path

import numpy as np

from seqart.errors import SeqartError

MAX_BYTES = 32 * 1024 * 1024  # no real score is this large; refuse before reading more
DRUMS = 128  # program value for notes on the drum channel
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
log = logging.getLogger("seqart")


def check_smf(data: bytes, source) -> None:
    """Walk the MThd/MTrk chunks; raise SeqartError naming the first problem."""
    if len(data) < 14 or data[:4] != b"MThd":
        raise SeqartError(f"{source}: not a MIDI file (no MThd header)")
    hlen, fmt, ntracks, division = struct.unpack(">IHHH", data[4:14])
    if hlen < 6 or 8 + hlen > len(data):
        raise SeqartError(f"{source}: corrupt MIDI header (header length {hlen})")
    if fmt > 2:
        raise SeqartError(f"{source}: unknown MIDI format {fmt}")
    if division == 0:
        raise SeqartError(f"{source}: MIDI division is 0 ticks per beat")
    pos, found = 8 + hlen, 0
    while pos + 8 <= len(data) and found < ntracks:
        size = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > len(data):
            raise SeqartError(f"{source}: truncated MIDI (chunk {data[pos:pos + 4]!r} at byte {pos} "
                              f"claims {size} bytes, {len(data) - pos - 8} remain)")
        found += data[pos : pos + 4] == b"MTrk"
        pos += 8 + size
    if found < ntracks:
        raise SeqartError(f"{source}: truncated MIDI (header promises {ntracks} tracks, found {found})")


def _load(path: Path):
    import pretty_midi

    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SeqartError(f"{path}: larger than {MAX_BYTES // 2**20} MiB, not a score this reader accepts")
    check_smf(data, path)
    try:
        with warnings.catch_warnings():  # pretty_midi warns about tempo events on later tracks; harmless
            warnings.simplefilter("ignore")
            return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - any parser failure on a file is that file's problem
        raise SeqartError(f"{path}: unreadable MIDI ({type(e).__name__}: {str(e)[:120]})") from None


def _instrument_notes(inst) -> np.ndarray:
    prog = DRUMS if inst.is_drum else int(inst.program)
    rows = [(n.start, n.end - n.start, n.pitch, n.velocity, prog) for n in inst.notes if n.velocity > 0]
    return np.asarray(rows, np.float64).reshape(-1, 5)


def select_tracks(pm, tracks: str, source) -> np.ndarray:
    """Notes of the chosen instruments: "melody", "all", "drums", or an instrument index."""
    insts = [i for i in pm.instruments if i.notes]
    pitched = [i for i in insts if not i.is_drum]
    if tracks == "melody":  # the pitched instrument with the highest mean pitch (a tune over its chords)
        chosen = [max(pitched, key=lambda i: np.mean([n.pitch for n in i.notes]))] if pitched else []
    elif tracks == "all":
        chosen = pitched
    elif tracks == "drums":
        chosen = [i for i in insts if i.is_drum]
    elif re.fullmatch(r"\d+", str(tracks)):
        k = int(tracks)
        chosen = [pm.instruments[k]] if k < len(pm.instruments) else []
    else:
        raise SeqartError(f"notes option tracks={tracks!r}: expected melody, all, drums or an instrument index")
    notes = np.concatenate([_instrument_notes(i) for i in chosen]) if chosen else np.zeros((0, 5))
    if len(notes) == 0:
        raise SeqartError(f"{source}: no notes in the chosen tracks ({tracks}; {len(insts)} instrument(s) with notes)")
    return tidy_notes(notes)


def tidy_notes(notes: np.ndarray, min_dur: float = 0.01) -> np.ndarray:
    """Sort by (start, pitch); cut a note that overlaps the next of the same pitch and program
    at that next onset; give zero-length notes `min_dur` seconds."""
    notes = notes[np.lexsort((notes[:, 2], notes[:, 0]))].copy()
    key = notes[:, 2] * 256 + notes[:, 4]
    for k in np.unique(key):
        idx = np.flatnonzero(key == k)
        nxt = notes[idx[1:], 0]
        end = notes[idx[:-1], 0] + notes[idx[:-1], 1]
        cut = end > nxt
        notes[idx[:-1][cut], 1] = nxt[cut] - notes[idx[:-1][cut], 0]
    notes[:, 1] = np.maximum(notes[:, 1], min_dur)
    return notes


def _meta(pm, path: Path) -> dict:
    times, bpms = pm.get_tempo_changes()
    sigs = [(int(t.numerator), int(t.denominator)) for t in pm.time_signature_changes]
    family = re.match(r"[^\d]*", path.stem).group(0).rstrip("_-") or path.stem
    return {"source": path.name, "group": path.stem, "family": family,
            "bpm": float(bpms[0]) if len(bpms) else 120.0, "tempo_changes": int(max(len(bpms) - 1, 0)),
            "time_signature": list(sigs[0]) if sigs else [4, 4]}


def read_midi(path: Path, tracks: str = "melody") -> tuple[np.ndarray, dict]:
    """One MIDI file -> (notes (N, 5), meta)."""
    pm = _load(Path(path))
    return select_tracks(pm, tracks, path), _meta(pm, Path(path))


def read_midi_folder(folder: Path, tracks: str = "melody") -> tuple[list[tuple[np.ndarray, dict]], dict]:
    """Every MIDI file under a folder; a file that fails is skipped and counted.

    Returns ([(notes, meta)], report) where report = {"read": n, "skipped": n, "why": {reason: n}}.
    """
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)
    out, why = [], {}
    for f in files:
        try:
            out.append(read_midi(f, tracks))
        except SeqartError as e:
            reason = re.sub(r"\d+", "N", str(e).split(": ", 1)[-1].split(" (")[0])
            why[reason] = why.get(reason, 0) + 1
    report = {"read": len(out), "skipped": sum(why.values()), "why": why}
    if not out:
        detail = "; ".join(f"{n} {r}" for r, n in why.items()) or "no .mid files"
        raise SeqartError(f"{folder}: no usable MIDI file ({detail})")
    if why:
        log.warning("%s: read %d MIDI files, skipped %d (%s)", folder, len(out), report["skipped"],
                    "; ".join(f"{n}: {r}" for r, n in why.items()))
    return out, report
