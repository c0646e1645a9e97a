"""The studio's catalog of models: loads each once, and a slow load holds up no other model."""

from __future__ import annotations

import threading
import time

import pytest

import seqart
from seqart.errors import SeqartError
from seqart.studio.catalog import Catalog


def test_a_slow_load_holds_up_no_other_model_and_each_loads_once(monkeypatch):
    catalog = Catalog()
    assert {"sheep", "salsa"} <= set(catalog.entries)
    real_load, calls, release = seqart.load, [], threading.Event()

    def load(path):
        calls.append(path.name)
        if path.name == "salsa":
            release.wait(30)  # a big model on a slow disk
        return real_load(path)

    monkeypatch.setattr(seqart, "load", load)
    got = {}
    slow = [threading.Thread(target=lambda: got.setdefault("salsa", catalog.load("salsa"))) for _ in range(2)]
    for t in slow:
        t.start()
    time.sleep(0.2)  # both tabs now wait on the salsa load
    fast = threading.Thread(target=lambda: got.setdefault("sheep", catalog.load("sheep")))
    fast.start()
    fast.join(30)
    assert "sheep" in got and "salsa" not in got  # the sheep loaded while the salsa was still loading
    release.set()
    for t in slow:
        t.join(60)
    assert calls.count("salsa") == 1 and calls.count("sheep") == 1
    assert catalog.load("salsa") is got["salsa"] and catalog.load("sheep") is got["sheep"]


def test_an_unknown_name_is_a_plain_error():
    with pytest.raises(SeqartError, match="not one of this studio's models"):
        Catalog().load("../../etc/passwd")
