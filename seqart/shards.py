"""A prepared cache: any dataset read through its codec once, stored as shards that training streams.

`prepare(data, out)` reads DATA through its codec, splits it as training
would, and writes a folder:

    index.json                  format, codec config (normalisation fitted here), per-split clip and
                                frame counts, per-shard channels/timing/sha256, a content hash
    train-00000.frames.npy      (F, C) float32: the clips' frames end to end, in codec space (the clip's
                                channels, before normalisation and augmentation)
    train-00000.offsets.npy     (n + 1,) int64: clip i is frames[offsets[i]:offsets[i + 1]]
    valid-00000...  test-00000...

Shards are plain `.npy` files (memory-mappable, never pickled) of about
`shard_mb` MB each. Frames are stored before normalisation, so augmentation
and dequantisation run through the codec per batch exactly as for in-memory
clips, and a fine-tune can use another model's normalisation. The
normalisation is fitted while the training shards are written, from running
moments (`Moments`), so training from a cache never holds the data.

Reading: only the offsets (8 bytes per clip) live in memory. A clip's frames
are read with one positioned read (`os.pread`) when a batch needs them. Not a
memory map, on purpose: pages a memory map has touched count in the process's
resident memory until it unmaps them, so after an epoch a mapped cache would
show up whole in RSS; a positioned read leaves them in the page cache only.

The folder is written under a temporary name and renamed into place, so an
interrupted prepare leaves nothing that looks like a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.lib.format as npy

from seqart import limits
from seqart.clip import Clip
from seqart.codecs import codec_for_path, codec_from_config
from seqart.codecs.base import Codec
from seqart.errors import SeqartError
from seqart.splits import Split, describe_split, held_out, make_split

INDEX = "index.json"
FORMAT, VERSION = "seqart-cache", 1
SPLITS = ("train", "valid", "test")


def is_cache(path) -> bool:
    """Whether a path is a prepared cache folder: it holds an index, or shards (then the index is missing)."""
    path = Path(path)
    return path.is_dir() and ((path / INDEX).exists() or next(path.glob("*.frames.npy"), None) is not None)


# --- writing -----------------------------------------------------------------------------


class Moments:
    """Running mean and variance of (N, K) values, merged chunk by chunk (Chan et al.), in float64."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, x: np.ndarray) -> None:
        if not len(x):
            return
        x = np.asarray(x, np.float64)
        nb, mb = len(x), x.mean(axis=0)
        m2b = ((x - mb) ** 2).sum(axis=0)
        if self.n == 0:
            self.n, self.mean, self.m2 = nb, mb, m2b
            return
        n, delta = self.n + nb, mb - self.mean
        self.mean = self.mean + delta * nb / n
        self.m2 = self.m2 + m2b + delta**2 * self.n * nb / n
        self.n = n

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.n)


class _ShardWriter:
    """Collects one split's clips and writes a shard each time about `shard_bytes` of frames have come."""

    def __init__(self, folder: Path, split: str, shard_bytes: int):
        self.folder, self.split, self.shard_bytes = folder, split, shard_bytes
        self.pending: list[Clip] = []
        self.size = 0
        self.shards: list[dict] = []

    def add(self, clip: Clip) -> None:
        if self.pending and _timing(clip) != _timing(self.pending[0]):
            self.flush()  # a shard holds clips of one channel set and timing
        self.pending.append(clip)
        self.size += clip.frames.nbytes
        if self.size >= self.shard_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        name = f"{self.split}-{len(self.shards):05d}"
        frames = np.ascontiguousarray(np.concatenate([c.frames for c in self.pending]), np.float32)  # (F, C), C order
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in self.pending])]).astype(np.int64)
        np.save(self.folder / f"{name}.frames.npy", frames, allow_pickle=False)
        np.save(self.folder / f"{name}.offsets.npy", offsets, allow_pickle=False)
        digest = hashlib.sha256(frames.tobytes() + offsets.tobytes()).hexdigest()
        self.shards.append({"name": name, "clips": len(self.pending), "frames": len(frames), "sha256": digest}
                           | _timing(self.pending[0]))
        self.pending, self.size = [], 0

    def summary(self) -> dict:
        self.flush()
        return {"clips": sum(s["clips"] for s in self.shards), "frames": sum(s["frames"] for s in self.shards),
                "shards": self.shards}


def _timing(clip: Clip) -> dict:
    return {"channels": list(clip.channels), "modality": clip.modality, "fps": clip.fps,
            "time_channel": clip.time_channel}


def _fit_norm(codec: Codec, moments: Moments, train_clips: list[Clip]) -> None:
    """The codec's normalisation from the running moments; a codec that fits more than moments
    (its own `fit_norm`, e.g. notes' pitch range) fits on the training clips instead."""
    if _fits_own_norm(codec):
        codec.fit_norm(train_clips)
    elif moments.n:
        codec.norm = codec.norm_from_moments(moments.mean, moments.std)


def _fits_own_norm(codec: Codec) -> bool:
    return type(codec).fit_norm is not Codec.fit_norm


def prepare(data: Path | list[Path], out: Path, shard_mb: float = 64.0, options: dict | None = None) -> dict:
    """Read DATA (one path, or several of one modality) through its codec and write a cache at OUT.

    Each DATA is read, split (as `train` would split it alone) and written in turn. Strokes keep only
    one DATA's clips in memory at a time (their norm comes from running moments): many Quick, Draw!
    class files make one cache. A codec with its own `fit_norm` (notes, poses, handwriting, canvas)
    also keeps every training clip until the end, to fit on them all.
    options: codec options (as `--set codec.K=V`); they are fixed in the cache. Returns the index.
    """
    sources = [Path(d) for d in ([data] if isinstance(data, (str, Path)) else data)]
    out = Path(out)
    if shard_mb <= 0:
        raise SeqartError(f"--shard-mb {shard_mb}: must be more than 0")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SeqartError(f"{out}: already exists; remove it or choose another --out")
    codec = codec_for_path(sources[0], options)
    for src in sources[1:]:
        if codec_for_path(src).modality != codec.modality:
            raise SeqartError(f"{src}: {codec_for_path(src).modality}, but {sources[0]} is {codec.modality}; "
                              "one cache holds one modality")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp"))
    try:
        index = _write(codec, sources, tmp, int(shard_mb * 2**20))
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return index


def _write(codec: Codec, sources: list[Path], folder: Path, shard_bytes: int) -> dict:
    writers = {split: _ShardWriter(folder, split, shard_bytes) for split in SPLITS}
    moments, own_fit, made_by = Moments(), [], {}
    for src in sources:
        made = make_split(codec.read(src), codec)
        for split in SPLITS:
            for clip in made.clips.get(split, []):
                writers[split].add(clip)
        train = made.clips["train"]
        for i in range(0, len(train), 256):  # chunks of clips: the codec's values for the norm
            moments.add(codec.norm_values(train[i : i + 256]))
        if _fits_own_norm(codec):
            own_fit.extend(train)
        made_by[src.name] = {"rule": made.rule, "description": describe_split(made),
                             "held_out": {name: _held_out(made, name) for name in made.clips}}
    _fit_norm(codec, moments, own_fit)
    index = {"format": FORMAT, "version": VERSION, "source": [s.name for s in sources], "codec": codec.config(),
             "splits": {split: w.summary() for split, w in writers.items()}, "split": _merged(made_by)}
    index["hash"] = _content_hash(index)
    (folder / INDEX).write_text(json.dumps(index, indent=1))
    return index


def _held_out(made: Split, name: str) -> dict:
    """`splits.held_out` for valid and test; for train only the rule and count (naming every training
    source would take time quadratic in the clips, and nobody reads it)."""
    if name == "train":
        return {"rule": made.rule, "clips": len(made.clips[name])}
    return held_out(made, name)


def _merged(made_by: dict[str, dict]) -> dict:
    """One DATA's split as it is; several: each one's rule and words, and their held-out sources together."""
    if len(made_by) == 1:
        return next(iter(made_by.values()))
    rule = "; ".join(f"{name}: {m['rule']}" for name, m in made_by.items())
    held: dict[str, dict] = {}
    for m in made_by.values():
        for split, h in m["held_out"].items():
            named = {"sources": 0, "names": []} if "names" in h else {}
            acc = held.setdefault(split, {"rule": rule, "clips": 0} | named)
            acc["clips"] += h["clips"]
            if "names" in h:  # valid and test name their sources; train only counts
                acc["sources"] += h["sources"]
                acc["names"] = (acc["names"] + h["names"])[:10]
    words = "\n".join(f"{name}: {m['description']}" for name, m in made_by.items())
    return {"rule": rule, "description": words, "held_out": held}


def _content_hash(index: dict) -> str:
    """sha256 over the index's entries (codec config, counts, every shard's own sha256), not itself."""
    entries = json.dumps({k: v for k, v in index.items() if k != "hash"}, sort_keys=True)
    return hashlib.sha256(entries.encode()).hexdigest()


# --- reading -----------------------------------------------------------------------------


class Cache:
    """An opened cache: its index, its codec, and its splits as sequences of clips."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.index = _read_index(self.path)

    def codec(self, options: dict | None = None) -> Codec:
        """The cache's codec, normalisation included. options that differ from the cache's are an error:
        they were applied (or fixed) when the cache was prepared."""
        codec = codec_from_config(self.index["codec"])
        for key, value in (options or {}).items():
            if codec.options.get(key) != value:
                raise SeqartError(f"codec.{key}={value}: {self.path} was prepared with codec.{key}="
                                  f"{codec.options.get(key)}; prepare it again with --set codec.{key}={value}")
        return codec

    @property
    def modality(self) -> str:
        return self.index["codec"]["modality"]

    def split(self, name: str) -> "CacheSplit":
        """One split's clips; "all": every split's, in order."""
        names = SPLITS if name == "all" else (name,)
        if name != "all" and name not in self.index["splits"]:
            raise SeqartError(f"{self.path}: no split {name!r} (has: {', '.join(self.index['splits'])})")
        return CacheSplit(self.path, [s for n in names for s in self.index["splits"].get(n, {}).get("shards", [])])

    def splits(self) -> dict[str, "CacheSplit"]:
        return {name: self.split(name) for name in self.index["splits"]}

    def split_info(self) -> "CachedSplit":
        """The splits as training sees them (empty ones left out), with how they were made."""
        info = self.index["split"]
        clips = {name: part for name, part in self.splits().items() if len(part)}
        return CachedSplit(clips, info["rule"], info["description"], info["held_out"])


@dataclass
class CachedSplit(Split):
    """A split made when the cache was prepared: its words are stored, since reading every clip to
    describe it again would read the whole cache."""

    description: str = ""
    held_out: dict = field(default_factory=dict)


def _read_index(path: Path) -> dict:
    where = path / INDEX
    if not where.exists():
        raise SeqartError(f"{where}: missing; not a prepared cache (make one with `seqart prepare`)")
    try:  # a regular file within the limits only: opening a FIFO would wait for a writer forever
        index = json.loads(limits.read_bytes(where))
    except (ValueError, RecursionError) as e:
        raise SeqartError(f"{where}: not a readable cache index ({type(e).__name__})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise SeqartError(f"{where}: not a seqart cache index")
    if index.get("version") != VERSION:
        raise SeqartError(f"{where}: cache version {index.get('version')}, this seqart reads {VERSION}; prepare again")
    try:
        ok = index["hash"] == _content_hash(index) and all(
            isinstance(s["clips"], int) and isinstance(s["frames"], int) for sp in index["splits"].values()
            for s in sp["shards"])
    except (KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise SeqartError(f"{where}: damaged (its content hash does not match its entries); prepare again")
    return index


class CacheSplit:
    """A sequence of clips stored in shards: `len`, `lengths` (N,) and `split[i] -> Clip`, read on demand."""

    def __init__(self, folder: Path, shards: list[dict]):
        self.folder, self.shards = folder, shards
        self._fds: dict[int, int] = {}  # shard -> open file, opened when first read
        self.offsets = [_load_offsets(folder, s) for s in shards]  # per shard: (n + 1,) int64
        counts = [s["clips"] for s in shards]
        self.first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # global id of each shard's clip 0
        self.lengths = np.concatenate([np.diff(o) for o in self.offsets]) if shards else np.zeros(0, np.int64)
        self.starts = [_frames_start(self._frames_path(k), s) for k, s in enumerate(shards)]  # bytes before frames

    def __len__(self) -> int:
        return int(self.first[-1])

    def __getitem__(self, i: int) -> Clip:
        if not 0 <= i < len(self):
            raise IndexError(i)
        k = int(np.searchsorted(self.first, i, side="right")) - 1
        a, b = self.offsets[k][i - self.first[k]], self.offsets[k][i - self.first[k] + 1]
        s = self.shards[k]
        row = 4 * len(s["channels"])  # float32 bytes per frame
        raw = os.pread(self._open(k), int(b - a) * row, self.starts[k] + int(a) * row)
        if len(raw) != (b - a) * row:
            raise SeqartError(f"{self._frames_path(k)}: truncated (clip {i} lies past its end); prepare again")
        frames = np.frombuffer(raw, np.float32).reshape(int(b - a), len(s["channels"])).copy()
        return Clip(frames, tuple(s["channels"]), s["modality"], fps=s["fps"], time_channel=s["time_channel"],
                    meta={"source": f"{self.folder.name}:{s['name']}[{i - self.first[k]}]"})

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def _frames_path(self, k: int) -> Path:
        return self.folder / f"{self.shards[k]['name']}.frames.npy"

    def _open(self, k: int) -> int:
        if k not in self._fds:
            try:
                self._fds[k] = os.open(self._frames_path(k), os.O_RDONLY)
            except OSError as e:
                raise SeqartError(f"{self._frames_path(k)}: cannot read this shard ({e.strerror})") from None
        return self._fds[k]

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def __del__(self):
        self.close()


def _frames_start(path: Path, shard: dict) -> int:
    """Check a frames file's header (float32, the index's shape, whole) without a pickle; its data offset."""
    shape = (shard["frames"], len(shard["channels"]))
    _check_regular(path)
    try:
        with open(path, "rb") as f:
            version = npy.read_magic(f)
            read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            got, fortran, dtype = read_header(f)
            start = f.tell()
        size = path.stat().st_size
    except FileNotFoundError:
        raise SeqartError(f"{path}: missing shard; prepare the cache again") from None
    except (OSError, ValueError) as e:
        raise SeqartError(f"{path}: not a readable shard ({e})") from None
    if dtype != np.float32 or fortran or tuple(got) != shape or size != start + 4 * shape[0] * shape[1]:
        raise SeqartError(f"{path}: damaged shard (expected {shape} float32 frames); prepare again")
    return start


def _load_offsets(folder: Path, shard: dict) -> np.ndarray:
    path = folder / f"{shard['name']}.offsets.npy"
    _check_regular(path)
    try:
        off = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SeqartError(f"{path}: missing shard; prepare the cache again") from None
    except (OSError, ValueError) as e:
        raise SeqartError(f"{path}: not a readable shard ({e})") from None
    if (off.dtype != np.int64 or off.shape != (shard["clips"] + 1,) or off[0] != 0 or off[-1] != shard["frames"]
            or (np.diff(off) < 1).any()):
        raise SeqartError(f"{path}: damaged offsets (expected {shard['clips'] + 1} rising int64 ending at "
                          f"{shard['frames']}); prepare again")
    return off


def _check_regular(path: Path) -> None:
    """A shard file must be a regular file (of any size: a shard may pass the input limits); a FIFO
    in its place would block the read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SeqartError(f"{path}: missing shard; prepare the cache again") from None
    except OSError as e:
        raise SeqartError(f"{path}: not a readable shard ({e.strerror})") from None
    if not stat.S_ISREG(mode):
        raise SeqartError(f"{path}: not a regular file; prepare the cache again")


def verify(path: Path) -> dict:
    """Read every shard and check it against its sha256 in the index; returns the index."""
    cache = Cache(path)
    for split in cache.splits().values():
        for k, s in enumerate(split.shards):
            frames = os.pread(split._open(k), s["frames"] * len(s["channels"]) * 4, split.starts[k])
            if hashlib.sha256(frames + split.offsets[k].tobytes()).hexdigest() != s["sha256"]:
                raise SeqartError(f"{split._frames_path(k)}: content does not match the index; prepare again")
        split.close()
    return cache.index
