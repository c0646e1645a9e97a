"""Read Standard MIDI Files into note arrays, checking the bytes before any parser sees them.

A note array is `(N, 5)` float64 rows `(start_s, dur_s, pitch, velocity, program)`
sorted by start then pitch: start and duration in seconds (through the file's
tempo map, so tempo changes are applied), pitch and velocity as MIDI numbers (1..127), program
the General MIDI program 0..127, or 128 for drums (channel 10).

The chunk structure is walked first (`check_smf`), so a non-MIDI file, a
truncated one or a chunk that claims more bytes than the file holds becomes one
clear `SeqartError` instead of a parser exception or a huge allocation. mido
then parses an in-memory copy of at most the `midi_mb` limit (`seqart.limits`), and notes are paired
here, in linear time, (pretty_midi would silently drop zero-length notes, common for drum hits).
"""

from __future__ import annotations

import io
import logging
import re
import struct
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqart import limits
from seqart.errors import SeqartError

if TYPE_CHECKING:  # imported where it is used: reading MIDI is the only user
    import mido

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
    if division == 0 or division & 0x8000:
        raise SeqartError(f"{source}: MIDI time division {division:#06x} is not ticks per beat (SMPTE or 0)")
    pos, found, notes = 8 + hlen, 0, 0
    while pos + 8 <= len(data) and found < ntracks:
        size = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > len(data):
            raise SeqartError(f"{source}: truncated MIDI (chunk {data[pos:pos + 4]!r} at byte {pos} "
                              f"claims {size} bytes, {len(data) - pos - 8} remain)")
        if data[pos : pos + 4] == b"MTrk":
            found += 1
            notes += count_note_ons(data, pos + 8, pos + 8 + size)
        pos += 8 + size
    if found < ntracks:
        raise SeqartError(f"{source}: truncated MIDI (header promises {ntracks} tracks, found {found})")
    limits.check("notes", notes, f"{source}: holds")  # before mido makes an object of every event


def count_note_ons(data: bytes, pos: int, end: int) -> int:
    """Note-ons in one track's events data[pos:end] (running status followed), ~10x faster than parsing them."""
    n, status = 0, 0
    while pos < end:
        while pos < end and data[pos] & 0x80:  # the delta time, a variable-length number
            pos += 1
        pos += 1
        if pos >= end:
            break
        if data[pos] & 0x80:
            status, pos = data[pos], pos + 1
        if status in (0xFF, 0xF0, 0xF7):  # meta or sysex: skip its variable-length payload
            pos += status == 0xFF
            length = 0
            while pos < end and data[pos] & 0x80:
                length, pos = (length << 7) | (data[pos] & 0x7F), pos + 1
            length = (length << 7) | (data[pos] & 0x7F) if pos < end else 0
            pos += 1 + length
            status = 0 if status != 0xFF else status
        elif status:
            n += (status & 0xF0) == 0x90 and pos + 1 < end and data[pos + 1] > 0
            pos += 1 if (status & 0xF0) in (0xC0, 0xD0) else 2
        else:
            break  # data without a status: mido reports the file as corrupt
    return n


def _load(path: Path) -> "mido.MidiFile":
    import mido

    data = limits.read_bytes(path, "midi_mb")
    check_smf(data, path)
    try:
        return mido.MidiFile(file=io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - any parser failure on a file is that file's problem
        raise SeqartError(f"{path}: unreadable MIDI ({type(e).__name__}: {str(e)[:120]})") from None


class TempoMap:
    """Ticks -> seconds through every set_tempo event (any track; 120 bpm until the first)."""

    def __init__(self, mid, changes: list[tuple[int, int]]):
        self.ppq = mid.ticks_per_beat
        ticks, tempos, secs = [0], [500000], [0.0]  # tempo in microseconds per beat
        for tick, tempo in sorted(changes):
            secs.append(secs[-1] + (tick - ticks[-1]) * tempos[-1] / self.ppq / 1e6)
            ticks.append(tick)
            tempos.append(tempo)
        self.ticks, self.tempos, self.secs = np.array(ticks), np.array(tempos, np.float64), np.array(secs)

    def seconds(self, tick: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.ticks, tick, side="right") - 1
        return self.secs[i] + (tick - self.ticks[i]) * self.tempos[i] / self.ppq / 1e6


def _track_notes(track) -> tuple[dict, list, list]:
    """One track -> ({(channel, program): [(on_tick, off_tick, pitch, velocity)]}, tempos, time signatures).

    A note-off closes the oldest sounding note of its channel and pitch (first in, first out),
    even one that began on the same tick (a zero-length note); notes still sounding at the
    end of the track end there."""
    tick, program, sounding, out, tempos, sigs = 0, {}, {}, {}, [], []
    for msg in track:
        tick += msg.time
        if msg.type == "set_tempo":
            if msg.tempo <= 0:  # 0 microseconds per beat: every later note would start at the same instant
                raise SeqartError(f"tempo 0 at tick {tick} (a beat must last some time)")
            tempos.append((tick, msg.tempo))
        elif msg.type == "time_signature":
            sigs.append((tick, msg.numerator, msg.denominator))
        elif msg.type == "program_change":
            program[msg.channel] = msg.program
        elif msg.type == "note_on" and msg.velocity > 0:
            prog = DRUMS if msg.channel == 9 else program.get(msg.channel, 0)
            sounding.setdefault((msg.channel, msg.note), deque()).append((tick, msg.velocity, prog))
        elif msg.type in ("note_on", "note_off") and sounding.get((msg.channel, msg.note)):
            on, vel, prog = sounding[(msg.channel, msg.note)].popleft()  # O(1): a list's pop(0) made this quadratic
            out.setdefault((msg.channel, prog), []).append((on, tick, msg.note, vel))
    for (ch, pitch), left in sounding.items():
        for on, vel, prog in left:
            out.setdefault((ch, prog), []).append((on, tick, pitch, vel))
    return out, tempos, sigs


def _track_name(track) -> str:
    """The track's name: its track_name, else its instrument_name meta event ("" when neither)."""
    names = {m.type: str(m.name).strip() for m in track if m.type in ("track_name", "instrument_name")}
    return names.get("track_name") or names.get("instrument_name") or ""


def parse_instruments(mid) -> tuple[list[dict], dict]:
    """A MidiFile -> ([{"track", "name", "channel", "program", "notes": (N, 5)}], facts)."""
    parts, tempos, sigs = [], [], []
    for t, track in enumerate(mid.tracks):
        notes, tt, ss = _track_notes(track)
        tempos += tt
        sigs += ss
        parts += [(t, ch, prog, np.asarray(rows, np.float64)) for (ch, prog), rows in sorted(notes.items())]
    tmap = TempoMap(mid, tempos)
    insts = []
    for t, ch, prog, rows in parts:
        start, end = tmap.seconds(rows[:, 0]), tmap.seconds(rows[:, 1])
        notes = np.column_stack([start, end - start, rows[:, 2], rows[:, 3], np.full(len(rows), prog)])
        insts.append({"track": t, "name": _track_name(mid.tracks[t]), "channel": ch, "program": prog, "notes": notes})
    first = sorted(tempos)[0][1] if tempos and sorted(tempos)[0][0] == 0 else 500000
    facts = {"bpm": round(60e6 / first, 3), "tempo_changes": max(len(tempos) - (1 if tempos else 0), 0),
             "time_signature": list(sorted(sigs)[0][1:]) if sigs else [4, 4]}
    return insts, facts


MELODY_NAMES = re.compile(r"melod|lead|vocal|voice|voix|stimme|singer|solo|tune|theme|soprano|canto", re.I)
NOT_MELODY = re.compile(r"bass|chord|accomp|comp\b|pad\b|drum|perc|rhythm|harmony|backing|strum|bridge|fill", re.I)


def melody_choice(pitched: list[dict]) -> tuple[dict, str]:
    """The melody instrument and how it was found: "name" (the highest of those with a melody-like
    track or instrument name: MELODY, Lead, Vocal, Soprano...), else "pitch" (the highest mean
    pitch among those whose names do not say accompaniment: bass, chords, bridge...; a tune
    sits over its chords)."""
    def highest(group: list[dict]) -> dict:
        return max(group, key=lambda i: i["notes"][:, 2].mean())

    named = [i for i in pitched if MELODY_NAMES.search(i["name"])]
    if named:
        return highest(named), "name"
    accompaniment = [i for i in pitched if NOT_MELODY.search(i["name"]) or 32 <= i["program"] <= 39]  # GM basses
    return highest([i for i in pitched if i not in accompaniment] or pitched), "pitch"


def describe(inst: dict, how: str) -> str:
    """One instrument for a report: 'track 1 "MELODY" (by name)'."""
    name = f' "{inst["name"]}"' if inst["name"] else ""
    return f"track {inst['track']}{name} (by {'name' if how == 'name' else 'highest mean pitch'})"


def choose_tracks(insts: list[dict], tracks: str, source) -> tuple[list[dict], str]:
    """The chosen instruments and, for "melody", how they were found ("name" or "pitch"; else the rule)."""
    pitched = [i for i in insts if i["program"] != DRUMS]
    how = str(tracks)
    if tracks == "melody":
        chosen, how = [], "pitch"
        if pitched:
            melody, how = melody_choice(pitched)
            chosen = [melody]
    elif tracks == "all":
        chosen = pitched
    elif tracks == "drums":
        chosen = [i for i in insts if i["program"] == DRUMS]
    elif re.fullmatch(r"\d+", str(tracks)):
        k = int(tracks)
        chosen = [insts[k]] if k < len(insts) else []
    else:
        raise SeqartError(f"notes option tracks={tracks!r}: expected melody, all, drums or an instrument index")
    if not chosen:
        raise SeqartError(f"{source}: no notes in the chosen tracks ({tracks}; {len(insts)} instrument(s) with notes)")
    return chosen, how


def select_tracks(insts: list[dict], tracks: str, source) -> np.ndarray:
    """Notes of the chosen instruments: "melody", "all", "drums", or an instrument index.

    Instruments are (track, channel, program) groups in file order."""
    chosen, _ = choose_tracks(insts, tracks, source)
    return tidy_notes(np.concatenate([i["notes"] for i in chosen]))


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


def read_midi(path: Path, tracks: str = "melody") -> tuple[np.ndarray, dict]:
    """One MIDI file -> (notes (N, 5), meta)."""
    path = Path(path)
    mid = _load(path)
    try:
        insts, facts = parse_instruments(mid)
    except SeqartError as e:  # tempo 0 (parse_instruments does not know the file)
        raise SeqartError(f"{path}: {e}") from None
    family = re.match(r"[^\d]*", path.stem).group(0).rstrip("_-") or path.stem
    chosen, how = choose_tracks(insts, tracks, path)
    meta = {"source": path.name, "group": path.stem, "family": family} | facts
    meta["tracks"] = [describe(i, how) if tracks == "melody" else f"track {i['track']}" for i in chosen]
    return tidy_notes(np.concatenate([i["notes"] for i in chosen])), meta


def summarise_choices(chosen: dict[str, str], names: int = 8) -> list[str]:
    """{file: choice} -> one line per distinct choice, most files first, naming up to `names` files:
    'track 0 (by highest mean pitch): 1021 files (a.mid, b.mid, ... and 1013 more)'."""
    groups: dict[str, list[str]] = {}
    for f, c in sorted(chosen.items()):
        groups.setdefault(c, []).append(f)
    lines = []
    for c, files in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        more = f" and {len(files) - names} more" if len(files) > names else ""
        lines.append(f"{c}: {len(files)} file{'s' if len(files) != 1 else ''} ({', '.join(files[:names])}{more})")
    return lines


def read_midi_folder(folder: Path, tracks: str = "melody") -> tuple[list[tuple[np.ndarray, dict]], dict]:
    """Every MIDI file under a folder; a file that fails is skipped and counted.

    Returns ([(notes, meta)], report) where report = {"read": n, "skipped": n, "why": {reason: n}}
    and, for tracks="melody", "chosen": {file name: 'track 0 "Melody" (by name)', ...}.
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
    if tracks == "melody":
        report["chosen"] = {m["source"]: m["tracks"][0] for _, m in out}
    if not out:
        detail = "; ".join(f"{n} {r}" for r, n in why.items()) or "no .mid files"
        raise SeqartError(f"{folder}: no usable MIDI file ({detail})")
    if why:
        log.warning("%s: read %d MIDI files, skipped %d (%s)", folder, len(out), report["skipped"],
                    "; ".join(f"{n}: {r}" for r, n in why.items()))
    return out, report
