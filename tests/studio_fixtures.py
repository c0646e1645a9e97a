"""A real `seqart studio` process on 127.0.0.1 for the studio tests, and a socket to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Studio:
    def __init__(self, *args: str, env: dict | None = None):
        cmd = [sys.executable, "-m", "seqart.cli", "studio", "--port", "0", *args]
        full_env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"} | (env or {})
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=full_env, text=True)
        line = self.proc.stderr.readline()
        found = re.search(r"(http://\S+)", line)
        if not found:
            self.proc.kill()
            raise RuntimeError(f"studio did not start: {line}{self.proc.stderr.read()[-2000:]}")
        self.url = found.group(1)
        self.base = self.url.split("/?")[0].rstrip("/")
        self.port = int(self.base.rsplit(":", 1)[1])
        deadline = time.time() + 20
        while time.time() < deadline:  # the URL is said before uvicorn answers: wait for it
            try:
                import urllib.request

                urllib.request.urlopen(self.url.replace("/?", "/api/models?") if "?" in self.url
                                       else self.base + "/api/models", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("studio did not answer")

    def socket(self, **kw):
        from websockets.sync.client import connect

        return connect(f"ws://127.0.0.1:{self.port}/ws", max_size=None, **kw)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stderr.close()


def ask(ws, msg, until=("models",), timeout=30.0) -> list[dict]:
    """Send msg (a dict, or raw text/bytes as is); the messages received up to one whose type is in until."""
    ws.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))
    got = []
    end = time.time() + timeout
    while time.time() < end:
        m = json.loads(ws.recv(timeout=max(0.1, end - time.time())))
        got.append(m)
        if m["type"] in until:
            return got
    raise AssertionError(f"no {until} within {timeout} s: {got[-3:]}")


def need_studio() -> None:
    """The studio extra (starlette, uvicorn, websockets): skipped without it, except under CI=true."""
    for name in ("starlette", "uvicorn", "websockets"):
        try:
            __import__(name)
        except ModuleNotFoundError:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{name} is missing; CI installs the test extra, which needs it")
            pytest.skip(f"{name} is not installed (pip install -e '.[studio]')")
