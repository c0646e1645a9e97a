"""Train / valid / test splits that keep related clips together, for big data and small.

Rules, in order (`make_split`):

1. Data that ships its own split (sketch-rnn .npz, JSB chorales, poses files named
   in the codec's `valid`/`test` options) keeps it.
2. Otherwise clips are grouped by `meta["group"]` (else their source file), so all
   clips of one file land in the same split, the same way on every machine:
   - 3 or more groups: each group's name is hashed (crc32): 90% train, 5% valid,
     5% test. Big folders (Nottingham's 1,034 tunes) keep exactly this split. When
     the hash leaves valid or test empty (a folder of 10 BVH files often does), the
     groups are ranked by the same hash instead and the first k go to valid, the
     next k to test (k = 5% of the groups, at least 1): still by file, still
     deterministic, and never an empty held-out split.
   - 1 or 2 groups (one file, or two): each is split in time, train first (90%),
     then valid (5%), then test (the last 5%). Held-out material then comes after
     everything trained on, as it would for a performer who records more later,
     and the test part is never next to training frames (valid sits between), so
     no window of the test part overlaps the training part. A group of 3+ clips
     (a file cut into chunks) is split by chunk order; a single clip by frames.
     Clips that end with an end token (drawings) are never cut: cutting a
     drawing would teach the model drawings that never end.
3. If nothing can be held out (one short clip, one drawing), validation falls back
   to a few training clips and there is no test split; `describe_split` says so.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from seqart.clip import Clip
from seqart.errors import SeqartError

HELD_OUT = 0.05  # fraction of groups (or of time) for each of valid and test
MIN_CUT_FRAMES = 20  # a single clip shorter than this is not cut in time


@dataclass
class Split:
    clips: dict[str, list[Clip]]  # "train", "valid", "test" (test may be absent)
    rule: str  # how it was made, in words


def _hash(key: str) -> int:
    return zlib.crc32(key.encode())


def group_split(key: str) -> str:
    bucket = _hash(key) % 20
    return "valid" if bucket == 0 else "test" if bucket == 1 else "train"


def group_of(clip: Clip, default: str = "") -> str:
    return str(clip.meta.get("group", clip.meta.get("source", default)))


def split_clips(splits: dict[str, list[Clip]], codec=None) -> dict[str, list[Clip]]:
    """{"train", "valid"[, "test"]} clips (see the module doc); `codec` tells whether clips may be cut."""
    return make_split(splits, codec).clips


def make_split(splits: dict[str, list[Clip]], codec=None) -> Split:
    if "train" in splits:
        out, rule = {k: list(v) for k, v in splits.items() if v}, "the data's own split"
    else:
        clips = [c for name, cs in splits.items() for c in cs]
        groups: dict[str, list[Clip]] = {}
        for c in clips:
            groups.setdefault(group_of(c, "all"), []).append(c)
        cuttable = codec is None or codec.layout.end is None
        if len(groups) >= 3:
            out, rule = _by_group(groups)
        elif cuttable:
            out, rule = _in_time(groups)
        else:
            out, rule = {"train": clips}, "no split (too few files to hold one out, and drawings are not cut)"
    if not out.get("train"):
        raise SeqartError("no training clips: the data is empty")
    if not out.get("valid"):  # nothing held out: validate on training clips rather than not at all
        out["valid"] = out["train"][: max(1, len(out["train"]) // 20)]
        rule += "; validation on training clips"
    return Split(out, rule)


def _by_group(groups: dict[str, list[Clip]]) -> tuple[dict, str]:
    names = {n: group_split(n) for n in groups}
    rule = "by file (hash of each file's name: 90/5/5)"
    if set(names.values()) != {"train", "valid", "test"}:
        ranked = sorted(groups, key=lambda n: (_hash(n), n))
        k = max(1, round(HELD_OUT * len(ranked)))
        names = {n: "valid" if i < k else "test" if i < 2 * k else "train" for i, n in enumerate(ranked)}
        rule = f"by file (small folder: {k} file{'s' if k > 1 else ''} each for valid and test, chosen by a hash of the name)"
    out: dict[str, list[Clip]] = {"train": [], "valid": [], "test": []}
    for n, cs in groups.items():
        out[names[n]].extend(cs)
    return out, rule


def _in_time(groups: dict[str, list[Clip]]) -> tuple[dict, str]:
    out: dict[str, list[Clip]] = {"train": [], "valid": [], "test": []}
    for cs in groups.values():
        if len(cs) >= 3:  # chunks of one file, in time order
            k = max(1, round(HELD_OUT * len(cs)))
            parts = (cs[: -2 * k], cs[-2 * k : -k], cs[-k:])
        else:
            parts = tuple(zip(*[_cut(c) for c in cs]))
        for name, p in zip(("train", "valid", "test"), parts):
            out[name].extend(x for x in p if x is not None)
    what = "one file" if len(groups) == 1 else "two files"
    return out, f"in time ({what}: train the first 90%, then valid 5%, then test the last 5%)"


def _cut(clip: Clip) -> tuple[Clip, Clip | None, Clip | None]:
    n = len(clip)
    if n < MIN_CUT_FRAMES:
        return clip, None, None
    k = max(2, round(HELD_OUT * n))
    a, b = n - 2 * k, n - k

    def part(lo, hi, name):
        return clip.slice(lo, hi).with_frames(clip.frames[lo:hi], meta=clip.meta | {"part": f"{name}: frames {lo}-{hi - 1} of {n}"})
    return part(0, a, "train"), part(a, b, "valid"), part(b, n, "test")


def describe_split(split: Split, limit: int = 6) -> str:
    """One line per split: clips, files and (for held-out splits) which files, e.g. for the training log."""
    lines = [f"split: {split.rule}"]
    for name in ("train", "valid", "test"):
        clips = split.clips.get(name, [])
        groups = list(dict.fromkeys(group_of(c) for c in clips))
        line = f"  {name}: {len(clips)} clip{'s' if len(clips) != 1 else ''}"
        if len(groups) > 1 or (groups and groups[0]):
            line += f" from {len(groups)} source{'s' if len(groups) != 1 else ''}"
        if name != "train" and groups:
            shown = [_label(g, clips) for g in groups[:limit]]
            line += ": " + ", ".join(shown) + (f", and {len(groups) - limit} more" if len(groups) > limit else "")
        lines.append(line if clips else f"  {name}: none")
    return "\n".join(lines)


def _label(group: str, clips: list[Clip]) -> str:
    part = next((c.meta["part"] for c in clips if group_of(c) == group and "part" in c.meta), None)
    return f"{group} ({part.split(': ', 1)[1]})" if part else group


def held_out(split: Split, name: str) -> dict:
    """What one split holds, JSON-able, for `seqart eval`: rule, clip count and its sources (files, drawings)."""
    clips = split.clips.get(name, [])
    groups = list(dict.fromkeys(_label(group_of(c), clips) for c in clips))
    names = groups[:10] + ([f"and {len(groups) - 10} more"] if len(groups) > 10 else [])
    return {"rule": split.rule, "clips": len(clips), "sources": len(groups), "names": names}
