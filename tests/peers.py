"""Third-party programs the tests check seqart's files with (vpype, rsvg-convert, fluidsynth...).

`peer("vpype")` returns the program's path, looked up in `$SEQART_PEERS_VENV/bin`
(default `~/.seqart-peers/bin`, where /work/shared/peers/install.sh puts the
PyPI tools) and then on PATH. When it is missing the test is skipped with the
reason, except under CI=true, where a missing peer fails the test: CI must
not pass by skipping its checks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def peers_bin() -> Path:
    return Path(os.environ.get("SEQART_PEERS_VENV", "~/.seqart-peers")).expanduser() / "bin"


def find_peer(name: str) -> str | None:
    """Path of a peer program, or None."""
    local = peers_bin() / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def peer(name: str) -> str:
    """Path of a peer program; skips the test when it is absent (fails under CI=true)."""
    path = find_peer(name)
    if path is None:
        reason = f"peer program {name!r} not found in {peers_bin()} or on PATH (see /work/shared/peers/install.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason)
    return path
