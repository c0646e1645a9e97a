"""Read `.npz` files whose arrays are pickled object arrays, without running code.

sketch-rnn datasets store each split as a 1-D object array of `(N, 3)` int16
or float64 arrays, pickled (aaron_sheep by Python 2, hence latin1). Loading them with
numpy's own loader and pickles allowed would run whatever the pickle asks for. Here the
unpickler admits only the few numpy constructors an array needs; any other
global (os.system, builtins.eval, ...) is refused before it is called.

An .npz is a zip: a few KiB can inflate to gigabytes. Every member's declared size is checked
against the `npz_mb` limit before anything is inflated, and inflating stops at that limit
whatever the headers claim. A pickle cannot ask for a larger array than that either.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from seqart import limits
from seqart.errors import SeqartError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 pickles bytes; it only turns text into bytes
}


def _reconstruct(subtype, shape, dtype):
    """numpy's own array reconstructor, refusing a shape larger than any member may inflate to."""
    count = 1
    for n in shape if isinstance(shape, tuple) else (shape,):
        count *= int(n)
    if count * np.dtype(dtype).itemsize > limits.get("npz_mb") * 2**20:
        raise pickle.UnpicklingError(f"an array of shape {shape} is over the npz_mb limit")
    return np.ndarray.__new__(subtype, shape, dtype)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _reconstruct if name == "_reconstruct" else super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, path: Path) -> bytes:
    """A member's bytes, reading no more than `budget` whatever its headers say."""
    with zf.open(info) as f:
        raw = f.read(budget + 1)
    if len(raw) > budget:
        raise limits.over("npz_mb", f"{path}: array {info.filename} inflates past what its header declared, and past")
    return raw


def _read_member(raw: bytes, member: str, path: Path) -> np.ndarray:
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError:
        pass  # an object array: parse the .npy header, then unpickle the body safely
    buf = io.BytesIO(raw)
    major, _minor = np.lib.format.read_magic(buf)
    if major == 1:
        _shape, _fortran, dtype = np.lib.format.read_array_header_1_0(buf)
    elif major == 2:
        _shape, _fortran, dtype = np.lib.format.read_array_header_2_0(buf)
    else:
        raise SeqartError(f"{path}: array {member} has unknown .npy version {major}")
    if dtype != object:
        raise SeqartError(f"{path}: array {member} could not be read")
    arr = _ArrayOnlyUnpickler(buf, encoding="latin1").load()
    if not isinstance(arr, np.ndarray):  # a pickle may hold any plain value (list, dict, ...)
        raise SeqartError(f"{path}: array {member} holds a {type(arr).__name__}, not an array")
    return arr


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays in an .npz, object arrays included, never executing pickled code."""
    path = Path(path)
    data = limits.read_bytes(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [i for i in zf.infolist() if i.filename.endswith(".npy")]
            declared = sum(i.file_size for i in members)
            limits.check("npz_mb", round(declared / 2**20, 1), f"{path}: its arrays declare")
            out, budget = {}, int(limits.get("npz_mb") * 2**20)
            for info in members:
                raw = _inflate(zf, info, budget, path)
                budget -= len(raw)
                out[info.filename[:-4]] = _read_member(raw, info.filename, path)
            return out
    except SeqartError:
        raise
    except pickle.UnpicklingError as e:
        raise SeqartError(f"{path}: unsafe or corrupt pickled data ({e})") from None
    except RecursionError:
        raise SeqartError(f"{path}: pickled data nested too deeply") from None
    except Exception as e:  # noqa: BLE001 - any failure while parsing untrusted bytes means a corrupt file
        # (seen in fuzzing: BadZipFile, zlib.error, NotImplementedError for a flipped
        # compression method, EOFError, ValueError, KeyError, IndexError from a bad pickle, MemoryError)
        raise SeqartError(f"{path}: not a readable .npz file ({type(e).__name__}: {str(e)[:120]})") from None
