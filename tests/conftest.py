"""Shared test fixtures, kept small and generic.

Numeric libraries get one thread each (the machine running the tests is shared),
and tests find the real samples shipped in `datasets/` through `datasets_dir`.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")



def _jack_server_name() -> str:
    """A JACK server name for this test process, held (a lock file) for the process's life.

    Each test process (an xdist worker, or the only one) gets a server of its own, for the dummy
    jackd the live tests start and every JACK client they run (libjack reads JACK_DEFAULT_SERVER):
    the tests' clients have fixed names (seqart_peer, seqart_fluid...), and another worker or
    another test run on this machine must never share their server, nor a person's own JACK.
    The names are reused from run to run (worker id + the first free slot), not made from the pid:
    JACK's registry (/dev/shm/jack-shm-registry) has 8 server slots and frees a dead server's slot
    only when a server of the same name starts, so every killed pid-named server leaked a slot
    until, a few test runs later, no jackd could start ("Too many servers already active").
    """
    import fcntl

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    for k in range(4):
        name = f"seqart-test-{worker}-{k}"
        lock = open(os.path.join("/tmp", f".{name}.lock"), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another test run on this machine holds it
            lock.close()
            continue
        _HELD.append(lock)
        return name
    return f"seqart-test-{os.getpid()}"


_HELD: list = []  # the lock files of the names this process holds
os.environ["JACK_DEFAULT_SERVER"] = _jack_server_name()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The repository's `datasets/` folder of small real samples."""
    return ROOT / "datasets"


@pytest.fixture
def write_file(tmp_path):
    """write_file(name, text_or_bytes) -> Path of a new file in this test's temp dir."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


# Tiny trained models for the live tests (session-wide: training one takes a few seconds).
@pytest.fixture(scope="session")
def tiny_strokes(tmp_path_factory) -> Path:
    from live_fixtures import train_tiny

    return train_tiny(tmp_path_factory.mktemp("tiny") / "strokes", rate=200.0)


@pytest.fixture(scope="session")
def tiny_notes(tmp_path_factory) -> Path:
    from live_fixtures import train_tiny

    pytest.importorskip("seqart.codecs.notes")
    return train_tiny(tmp_path_factory.mktemp("tiny") / "notes", modality="notes")
