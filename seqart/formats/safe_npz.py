"""Read `.npz` files whose arrays are pickled object arrays, without running code.

sketch-rnn datasets store each split as a 1-D object array of `(N, 3)` int16
or float64 arrays, pickled (aaron_sheep by Python 2, hence latin1). Loading them with
numpy's own loader and pickles allowed would run whatever the pickle asks for. Here the
unpickler admits only the few numpy constructors an array needs; any other
global (os.system, builtins.eval, ...) is refused before it is called.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

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


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def _read_member(zf: zipfile.ZipFile, member: str, path: Path) -> np.ndarray:
    raw = zf.read(member)
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
    try:
        with zipfile.ZipFile(path) as zf:
            out = {}
            for member in zf.namelist():
                if member.endswith(".npy"):
                    out[member[:-4]] = _read_member(zf, member, path)
            return out
    except FileNotFoundError:
        raise SeqartError(f"{path}: no such file") from None
    except SeqartError:
        raise
    except pickle.UnpicklingError as e:
        raise SeqartError(f"{path}: unsafe or corrupt pickled data ({e})") from None
    except IsADirectoryError:
        raise SeqartError(f"{path}: is a folder, not an .npz file") from None
    except Exception as e:  # noqa: BLE001 - any failure while parsing untrusted bytes means a corrupt file
        # (seen in fuzzing: BadZipFile, zlib.error, NotImplementedError for a flipped
        # compression method, EOFError, ValueError, KeyError, IndexError from a bad pickle)
        raise SeqartError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
