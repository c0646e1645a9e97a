"""BVH motion files: a strict reader that names the line of any problem, and a writer.

A BVH file has two parts:

    HIERARCHY
    ROOT hip                       one root joint (seqart reads one skeleton per file)
    {
      OFFSET 0 0 0                 rest offset from the parent, in the file's units
      CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
      JOINT abdomen { OFFSET ... CHANNELS 3 Zrotation Xrotation Yrotation ... }
      End Site { OFFSET 0 5 0 }    a leaf point with no channels
    }
    MOTION
    Frames: 1831
    Frame Time: 0.00833333         seconds per frame
    <one row per frame: every joint's channels, in hierarchy order>

Rotation channels are Euler angles in degrees, applied in the order listed
(`Zrotation Xrotation Yrotation` means R = Rz @ Rx @ Ry). The reader never
loops without consuming input, so no file can make it hang; every problem is
one `SeqartError` line "FILE:LINE: what is wrong".
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqart import limits
from seqart.errors import SeqartError

CHANNEL_NAMES = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
_TOKEN = re.compile(r"[{}]|[^\s{}]+")


@dataclass(frozen=True)
class Skeleton:
    """Joints in file order (parents come first), as JSON-able tuples."""

    names: tuple[str, ...]
    parents: tuple[int, ...]  # index of each joint's parent; -1 for the root
    offsets: tuple[tuple[float, float, float], ...]  # rest offsets from the parent, file units
    channels: tuple[tuple[str, ...], ...]  # each joint's channel names, in file order
    end_sites: tuple[tuple[int, tuple[float, float, float]], ...] = ()  # (joint, offset)

    @property
    def n_channels(self) -> int:
        return sum(len(c) for c in self.channels)

    def channel_slices(self) -> list[slice]:
        """Where each joint's channels sit in a motion row."""
        out, i = [], 0
        for ch in self.channels:
            out.append(slice(i, i + len(ch)))
            i += len(ch)
        return out

    def offsets_array(self) -> np.ndarray:
        return np.asarray(self.offsets, np.float64).reshape(-1, 3)

    def to_json(self) -> dict:
        return {"names": list(self.names), "parents": list(self.parents),
                "offsets": [list(o) for o in self.offsets], "channels": [list(c) for c in self.channels],
                "end_sites": [[j, list(o)] for j, o in self.end_sites]}

    @classmethod
    def from_json(cls, d: dict) -> "Skeleton":
        return cls(tuple(d["names"]), tuple(int(p) for p in d["parents"]),
                   tuple(tuple(float(v) for v in o) for o in d["offsets"]),
                   tuple(tuple(c) for c in d["channels"]),
                   tuple((int(j), tuple(float(v) for v in o)) for j, o in d.get("end_sites", [])))


@dataclass(frozen=True)
class Motion:
    skeleton: Skeleton
    frame_time: float  # seconds per frame, as the file declares it
    values: np.ndarray  # (T, n_channels) float64: positions in file units, angles in degrees


class _Tokens:
    """Whitespace/brace tokens of the hierarchy with their line numbers."""

    def __init__(self, path, lines: list[str]):
        self.path = path
        self.items = [(t, n + 1) for n, line in enumerate(lines) for t in _TOKEN.findall(line)]
        self.i = 0
        self.last_line = len(lines)

    def error(self, line: int, problem: str) -> SeqartError:
        return SeqartError(f"{self.path}:{line}: {problem}")

    def next(self, what: str) -> tuple[str, int]:
        if self.i >= len(self.items):
            raise self.error(self.last_line, f"file ends where {what} was expected (truncated?)")
        self.i += 1
        return self.items[self.i - 1]

    def expect(self, word: str) -> int:
        tok, line = self.next(repr(word))
        if tok != word:
            raise self.error(line, f"expected {word!r}, found {tok!r}")
        return line

    def number(self, what: str) -> float:
        tok, line = self.next(what)
        try:
            v = float(tok)
        except ValueError:
            raise self.error(line, f"{what}: {tok!r} is not a number") from None
        if not np.isfinite(v):
            raise self.error(line, f"{what}: {tok!r} is not a finite number")
        return v

    def done(self) -> bool:
        return self.i >= len(self.items)


def _parse_hierarchy(tok: _Tokens) -> Skeleton:
    tok.expect("HIERARCHY")
    tok.expect("ROOT")
    names, parents, offsets, channels, ends = [], [], [], [], []
    opened: list[tuple[int, int]] = []  # (joint index, line of its '{')
    seen: set[str] = set()  # the names, for O(1) duplicate checks

    def open_joint(parent: int) -> None:
        name, line = tok.next("a joint name")
        if name in ("{", "}"):
            raise tok.error(line, f"expected a joint name, found {name!r}")
        if name in seen:
            raise tok.error(line, f"joint name {name!r} is used twice")
        seen.add(name)
        limits.check("joints", len(names) + 1, f"{tok.path}:{line}: the skeleton has")
        opened.append((len(names), tok.expect("{")))
        names.append(name), parents.append(parent), offsets.append(None), channels.append(None)

    open_joint(-1)
    while opened:
        word, line = tok.next(f"'}}' closing joint {names[opened[-1][0]]!r} (opened on line {opened[-1][1]})")
        j = opened[-1][0]
        if word == "OFFSET":
            offsets[j] = tuple(tok.number(f"OFFSET of {names[j]!r}") for _ in range(3))
        elif word == "CHANNELS":
            channels[j] = _parse_channels(tok, names[j])
        elif word == "JOINT":
            open_joint(j)
        elif word == "End":
            ends.append((j, _parse_end_site(tok, names[j])))
        elif word == "}":
            if offsets[j] is None or channels[j] is None:
                raise tok.error(line, f"joint {names[j]!r} has no {'OFFSET' if offsets[j] is None else 'CHANNELS'}")
            opened.pop()
        else:
            raise tok.error(line, f"unexpected {word!r} in joint {names[j]!r}")
    if not tok.done():
        word, line = tok.next("")
        problem = "a second ROOT (seqart reads one skeleton per file)" if word == "ROOT" else f"unexpected {word!r}"
        raise tok.error(line, f"{problem} after the root joint closed (unbalanced braces?)")
    return Skeleton(tuple(names), tuple(parents), tuple(offsets), tuple(channels), tuple(ends))


def _parse_channels(tok: _Tokens, joint: str) -> tuple[str, ...]:
    tok_n, line = tok.next(f"channel count of {joint!r}")
    if not tok_n.isdigit() or int(tok_n) > 6:
        raise tok.error(line, f"CHANNELS of {joint!r}: {tok_n!r} is not a channel count from 0 to 6")
    out = []
    for _ in range(int(tok_n)):
        name, line = tok.next(f"a channel name of {joint!r}")
        if name not in CHANNEL_NAMES:
            raise tok.error(line, f"unknown channel name {name!r} in joint {joint!r} (known: {', '.join(CHANNEL_NAMES)})")
        if name in out:
            raise tok.error(line, f"channel {name!r} is listed twice in joint {joint!r}")
        out.append(name)
    return tuple(out)


def _parse_end_site(tok: _Tokens, joint: str) -> tuple[float, float, float]:
    tok.expect("Site")
    tok.expect("{")
    tok.expect("OFFSET")
    off = tuple(tok.number(f"End Site OFFSET of {joint!r}") for _ in range(3))
    tok.expect("}")
    return off


def _header_value(path, lines: list[str], i: int, label: str) -> tuple[str, int]:
    """The value after `label` on line i (0-based), e.g. 'Frames:' -> '1831'."""
    if i >= len(lines):
        raise SeqartError(f"{path}:{len(lines)}: file ends before {label!r} (truncated?)")
    text = lines[i].strip()
    if not text.startswith(label):
        raise SeqartError(f"{path}:{i + 1}: expected {label!r}, found {text[:40]!r}")
    return text[len(label):].strip(), i + 1


def _parse_motion(path, lines: list[str], start: int, n_channels: int) -> tuple[float, np.ndarray]:
    """Lines after MOTION (0-based index `start`) -> frame time, (T, n_channels) values."""
    text, line = _header_value(path, lines, start, "Frames:")
    if not text.isdigit():
        raise SeqartError(f"{path}:{line}: Frames: {text!r} is not a whole number")
    n_frames = int(text)
    limits.check("frames", n_frames, f"{path}:{line}: declares")
    text, line = _header_value(path, lines, start + 1, "Frame Time:")
    try:
        frame_time = float(text)
    except ValueError:
        raise SeqartError(f"{path}:{line}: Frame Time: {text!r} is not a number") from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise SeqartError(f"{path}:{line}: Frame Time must be a positive number of seconds, not {text!r}")
    rows = [(i + 1, lines[i]) for i in range(start + 2, len(lines)) if lines[i].strip()]
    if len(rows) < n_frames:
        raise SeqartError(f"{path}:{len(lines)}: declares Frames: {n_frames} but has only {len(rows)} "
                          "motion rows (truncated?)")
    if len(rows) > n_frames:
        raise SeqartError(f"{path}:{rows[n_frames][0]}: more motion rows than the {n_frames} that Frames: declares")
    values = np.empty((n_frames, n_channels), np.float64)
    for k, (line, row) in enumerate(rows):
        values[k] = _parse_row(path, line, row, k, n_channels, last=k == n_frames - 1)
    return frame_time, values


def _parse_row(path, line: int, row: str, k: int, n_channels: int, last: bool) -> np.ndarray:
    parts = row.split()
    if len(parts) != n_channels:
        hint = " (truncated?)" if last and len(parts) < n_channels else ""
        raise SeqartError(f"{path}:{line}: frame {k} has {len(parts)} values, the hierarchy declares "
                          f"{n_channels} channels{hint}")
    try:
        v = np.array(parts, dtype=np.float64)
    except ValueError:
        bad = next(p for p in parts if not _is_number(p))
        raise SeqartError(f"{path}:{line}: frame {k}: {bad!r} is not a number") from None
    if not np.isfinite(v).all():
        raise SeqartError(f"{path}:{line}: frame {k} holds NaN or infinite values")
    return v


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_bvh(path: Path) -> Motion:
    """Parse one BVH file; raises SeqartError 'FILE:LINE: problem' on anything malformed."""
    path = Path(path)
    lines = limits.read_bytes(path).decode("utf-8", errors="replace").splitlines()
    motion_at = next((i for i, l in enumerate(lines) if l.strip() == "MOTION"), None)
    tok = _Tokens(path, lines if motion_at is None else lines[:motion_at])
    if motion_at is not None:
        tok.last_line = motion_at + 1
    skeleton = _parse_hierarchy(tok)
    if motion_at is None:
        raise SeqartError(f"{path}:{len(lines)}: no MOTION section after the hierarchy (truncated?)")
    frame_time, values = _parse_motion(path, lines, motion_at + 1, skeleton.n_channels)
    return Motion(skeleton, frame_time, values)


# --- writing -------------------------------------------------------------------------------------------
def _fmt(v: float) -> str:
    """Motion values: 6 decimals (1e-6 degrees or units), trailing zeros dropped."""
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _fmt_exact(v: float) -> str:
    """Offsets: the shortest text that reads back as the same float."""
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else ("0" if s == "-0" else s)


def hierarchy_lines(sk: Skeleton) -> list[str]:
    """The HIERARCHY section, joints nested under their parents, tabs for indentation."""
    children: dict[int, list[int]] = {}
    for j, p in enumerate(sk.parents):
        children.setdefault(p, []).append(j)
    ends: dict[int, list] = {}
    for j, off in sk.end_sites:
        ends.setdefault(j, []).append(off)
    out = ["HIERARCHY"]
    # Depth first without recursion (a chain of thousands of joints is legal): (joint, depth, closing?)
    todo = [(root, 0, False) for root in reversed(children.get(-1, []))]
    while todo:
        j, depth, closing = todo.pop()
        pad = "\t" * depth
        if closing:
            for off in ends.get(j, []):
                out.extend([f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {' '.join(_fmt_exact(v) for v in off)}", f"{pad}\t}}"])
            out.append(pad + "}")
            continue
        out.append(f"{pad}{'ROOT' if sk.parents[j] < 0 else 'JOINT'} {sk.names[j]}")
        out.append(pad + "{")
        out.append(f"{pad}\tOFFSET {' '.join(_fmt_exact(v) for v in sk.offsets[j])}")
        out.append(f"{pad}\tCHANNELS {len(sk.channels[j])}" + "".join(" " + c for c in sk.channels[j]))
        todo.append((j, depth, True))
        todo.extend((c, depth + 1, False) for c in reversed(children.get(j, [])))
    return out


def bvh_text(motion: Motion) -> str:
    sk, values = motion.skeleton, np.asarray(motion.values, np.float64)
    if values.ndim != 2 or values.shape[1] != sk.n_channels:
        raise ValueError(f"motion {values.shape} does not match {sk.n_channels} channels")
    rows = [" ".join(_fmt(v) for v in row) for row in values]
    head = hierarchy_lines(sk) + ["MOTION", f"Frames: {len(values)}", f"Frame Time: {motion.frame_time:.8f}"]
    return "\n".join(head + rows) + "\n"


def write_bvh(motion: Motion, path: Path) -> None:
    """Write atomically: a temporary file in the same folder, then rename."""
    path = Path(path)
    text = bvh_text(motion)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
