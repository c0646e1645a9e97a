"""Files a browser uploads to prime a model (a MIDI phrase, a BVH dance, a drawing).

Each is kept under a private temporary folder, named by a random id, with the suffix of the
name it was uploaded as (the suffix picks the reader, as on the command line); nothing the
browser sends becomes a path. The model's codec reads it later with the CLI's strict
readers and their limits. At most `MAX_KEPT` uploads are kept: the oldest goes first.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from seqart import limits
from seqart.errors import SeqartError

MAX_KEPT = 16


def max_bytes() -> int:
    """The largest upload: the limit on a file a live show primes with (SEQART_MAX_PRIME_MB)."""
    return int(limits.get("prime_mb") * 2**20)


class Uploads:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="seqart-studio-"))
        self.files: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, name: str, data: bytes) -> str:
        """Keep an upload; its id. SeqartError if its name has no suffix a codec reads."""
        from seqart.codecs import all_suffixes

        suffix = next((s for s in all_suffixes() if name.lower().endswith(s)), None)
        if suffix is None:
            raise SeqartError(f"{name[:80]}: not a file type seqart reads ({', '.join(all_suffixes())})")
        key = secrets.token_hex(8)
        path = self.folder / f"{key}{suffix}"
        path.write_bytes(data)
        with self._lock:
            self.files[key] = path
            while len(self.files) > MAX_KEPT:
                self.files.popitem(last=False)[1].unlink(missing_ok=True)
        return key

    def path(self, key: str) -> Path:
        with self._lock:
            if key not in self.files:
                raise SeqartError(f"upload {key[:64]}: not found (upload the file again)")
            return self.files[key]

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
