"""A load that runs past its timeout is given up, and its thread stops instead of reading on.

The control thread hands slow work (prime files, models, pieces) to seqart.live.loader. A job
given up after its timeout has its reads cancelled: seqart.limits reads in chunks and checks
between them, and model loading checks between its stages, so the abandoned thread ends at once
and stops using the disk and memory the show needs.
"""

from __future__ import annotations

import threading
import time

import pytest

from seqart import limits
from seqart.live.loader import Loader


def _watch_until(loader: Loader, rejected: list, seconds: float = 10.0) -> None:
    """Call watch() as the control thread does (every 0.1 s) until a job is given up."""
    end = time.monotonic() + seconds
    while not rejected and time.monotonic() < end:
        loader.watch()
        time.sleep(0.02)
    assert rejected, "the slow job was never given up"


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * (9 * 2**20))  # three cancellable chunks and a bit
    return path


def test_a_given_up_load_stops_reading_and_its_thread_ends(big_file):
    reads, rejected, applied = [], [], []

    def endless_load():  # a load that never finishes by itself: it keeps reading real files
        while True:
            reads.append(len(limits.read_bytes(big_file)))

    loader = Loader(lambda what, why: rejected.append((what, why)), timeout=0.3)
    first = loader.thread
    loader.submit("/seqart/model", endless_load)
    _watch_until(loader, rejected)
    assert rejected[0][0] == "/seqart/model" and "gave up after 0.3 s" in rejected[0][1]
    first.join(2.0)
    assert not first.is_alive(), "the given-up load's thread is still running"
    count = len(reads)
    time.sleep(0.3)
    assert len(reads) == count and count >= 1  # it read, then stopped reading
    # the jobs behind it run on a fresh thread, in order
    loader.submit("/seqart/prime/file", lambda: lambda: applied.append("primed"))
    end = time.monotonic() + 5
    while not applied and time.monotonic() < end:
        time.sleep(0.01)
    assert applied == ["primed"] and loader.thread is not first and loader.thread.is_alive()
    loader.close()


def test_closing_the_loader_stops_the_running_load(big_file):
    started = threading.Event()

    def endless_load():
        while True:
            limits.read_bytes(big_file)
            started.set()

    loader = Loader(lambda what, why: None, timeout=60.0)
    loader.submit("/seqart/piece", endless_load)
    assert started.wait(10.0)
    loader.close()
    loader.thread.join(2.0)
    assert not loader.thread.is_alive()


def test_a_cancelled_read_stops_before_its_next_chunk(big_file):
    event = threading.Event()
    with limits.cancellable(event):
        assert len(limits.read_bytes(big_file)) == 9 * 2**20  # chunked, and whole
        event.set()
        with pytest.raises(limits.Cancelled, match="big.bin: given up"):
            limits.read_bytes(big_file)
    assert len(limits.read_bytes(big_file)) == 9 * 2**20  # outside the block nothing is cancelled


def test_a_model_load_checks_between_its_stages():
    from seqart.errors import SeqartError
    from seqart.modelio import load_model

    event = threading.Event()
    event.set()
    with limits.cancellable(event), pytest.raises(SeqartError, match="given up"):
        load_model("sheep")
