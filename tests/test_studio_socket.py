"""seqart studio over a real socket: continuations through the one Sampler, and bad input that
is answered with an error while the server keeps running."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from studio_fixtures import Studio, ask, need_studio

need_studio()

# A stroke: a horizontal line then a short vertical one, canvas pixels (x, y, lifted).
DRAWING = [[100 + 10 * i, 200, 0] for i in range(12)] + [[210, 200, 1], [210, 210, 0], [210, 240, 1]]


@pytest.fixture(scope="module")
def studio(tiny_strokes):
    s = Studio("--models", str(tiny_strokes))
    yield s
    s.close()


def test_lists_shipped_and_given_models(studio, tiny_strokes):
    with studio.socket() as ws:
        listing = {m["name"]: m for m in ask(ws, {"cmd": "models"})[-1]["models"]}
    assert listing["sheep"]["source"] == "shipped" and listing["sheep"]["modality"] == "strokes"
    assert listing[tiny_strokes.name]["source"] == str(tiny_strokes)


def test_continues_a_drawing_point_by_point(studio):
    with studio.socket() as ws:
        got = ask(ws, {"cmd": "continue", "id": 7, "model": "sheep", "temperature": 0.3, "seed": 1,
                       "drawing": DRAWING}, until=("end",))
    start, events, end = got[0], [m for m in got if m["type"] == "event"], got[-1]
    assert start["type"] == "start" and start["primed"] >= 3 and start["temperature"] == 0.3
    assert events and all(m["address"] == "/seqart/pen" and m["id"] == 7 for m in events)
    assert end["frames"] == len(events) == events[-1]["i"]
    # The pen goes on from where the drawing stopped: the first move starts at its last point.
    x, y, down = events[0]["args"]
    assert down == 0 and abs(x - 210) < 200 and abs(y - 240) < 200


def test_inside_of_draw_and_of_a_drawing(studio):
    """The Inside panel over the socket: DRAW, given the page's drawing it cannot take, is looked
    into as it draws from nothing; the sheep is looked into along the drawing; without one, a plain answer."""
    with studio.socket() as ws:
        draw = ask(ws, {"cmd": "inside", "id": 3, "model": "draw_mnist", "drawing": DRAWING}, until=("inside",))[-1]
        sheep = ask(ws, {"cmd": "inside", "model": "sheep", "drawing": DRAWING}, until=("inside",))[-1]
        bare = ask(ws, {"cmd": "inside", "model": "sheep"}, until=("error",))[-1]
    assert draw["id"] == 3 and draw["views"]["draw"]["kind"] == "draw" and draw["frames"] == 32  # its glimpses
    assert sheep["modality"] == "strokes" and sheep["frames"] >= 3 and "draw" not in sheep["views"]
    assert "give a clip to look inside" in bare["message"]


def test_temperature_reaches_the_running_sampler(studio):
    with studio.socket() as ws:
        ask(ws, {"cmd": "continue", "model": "sheep", "temperature": 0.2, "seed": 3, "drawing": DRAWING, "pace": 1},
            until=("event",))
        got = ask(ws, {"cmd": "temperature", "value": 0.9}, until=("temperature", "end"))
        if got[-1]["type"] == "temperature":
            got += ask(ws, {"cmd": "models"}, until=("end",))
    used = [m["T"] for m in got if m["type"] == "event"]
    assert used[0] == 0.2 and used[-1] == 0.9  # every event says the temperature its frame was drawn at


def test_stop_cuts_a_paced_wait_short(studio):
    """At pace 1e-6 the second note waits days; a stop (or a closed tab) must not wait with it."""
    import time

    with studio.socket() as ws:
        got = ask(ws, {"cmd": "continue", "id": 1, "model": "nottingham", "seed": 5, "pace": 1e-6,
                       "phrase": [[60, 90, 0.0, 0.4], [64, 90, 0.5, 0.4], [67, 90, 1.0, 0.4]]}, until=("event",))
        began = time.time()
        got += ask(ws, {"cmd": "stop", "id": 2}, until=("stopped",), timeout=20)
        assert time.time() - began < 10
        end = next(m for m in got if m["type"] == "end")
        shown = [m for m in got if m["type"] == "event"]
        assert end["reason"] == "stopped" and end["frames"] == len(shown)  # the frame held back was never shown


BAD = [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    (json.dumps({"cmd": "dance"}), "unknown command"),
    (json.dumps({"cmd": "continue"}), "missing field"),
    ('{"cmd": "temperature", "value": NaN}', "NaN is not a number"),
    ('{"cmd": "temperature", "value": Infinity}', "Infinity is not a number"),
    (json.dumps({"cmd": "temperature", "value": 11}), "out of range"),
    (json.dumps({"cmd": "temperature", "value": "hot"}), "must be a number"),
    (json.dumps({"cmd": "continue", "model": "../../../etc/passwd"}), "not one of this studio's models"),
    (json.dumps({"cmd": "continue", "model": "sheep", "drawing": [[1, 2]]}), "3 finite numbers"),
    (json.dumps({"cmd": "continue", "model": "sheep", "drawing": [[1e300, 2, 0]]}), "finite numbers"),
    (json.dumps({"cmd": "continue", "model": "sheep", "drawing": [[10**400, 2, 0]]}), "finite numbers within"),
    (json.dumps({"cmd": "continue", "model": "sheep", "seed": 10**400}), "seed = 1000"),
    (json.dumps({"cmd": "continue", "model": "sheep", "phrase": [[60, 90, 0, 0.5]]}), "no pitch"),
    (json.dumps({"cmd": "continue", "model": "nottingham", "drawing": [[1, 2, 1]]}), "cannot take a drawing"),
    (json.dumps({"cmd": "continue", "model": "sheep", "upload": "deadbeef"}), "upload deadbeef: not found"),
    (json.dumps({"cmd": "models", "path": "/etc"}), "unknown field"),
    (json.dumps({"cmd": "select", "span": [0, 3], "threshold": 0.5}), "open a clip in Inside first"),
    ("x" * 300_000, "over the limit"),
    (b"\x00\x01binary", "binary messages"),
]


@pytest.mark.parametrize("message,reason", BAD, ids=[r for _, r in BAD])
def test_bad_input_is_answered_and_the_server_goes_on(studio, message, reason):
    with studio.socket() as ws:
        got = ask(ws, message, until=("error",))
        assert reason in got[-1]["message"]
        assert ask(ws, {"cmd": "models"})[-1]["models"]  # the same socket still answers
    assert studio.alive()


def test_a_message_too_big_for_the_socket_closes_only_that_socket(studio):
    from websockets.exceptions import ConnectionClosed

    with studio.socket() as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ask(ws, "x" * (5 * 2**20), until=("error",))
    assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
    with studio.socket() as ws:
        assert ask(ws, {"cmd": "models"})[-1]["models"]


def test_refuses_other_hosts_and_other_sites(studio):
    req = urllib.request.Request(studio.base + "/api/models", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    with pytest.raises((ConnectionClosed, InvalidStatus)):
        with studio.socket(origin="http://evil.example") as ws:
            ask(ws, {"cmd": "models"})
    post = urllib.request.Request(studio.base + "/upload?name=a.mid", data=b"MThd", method="POST",
                                  headers={"Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(post, timeout=10)
    assert e.value.code == 403


def test_another_address_needs_the_token(tiny_strokes):
    s = Studio("--host", "0.0.0.0")
    try:
        assert "?token=" in s.url
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(s.base + "/api/models", timeout=10)
        assert e.value.code == 403
        token = s.url.split("token=")[1]
        body = json.loads(urllib.request.urlopen(f"{s.base}/api/models?token={token}", timeout=10).read())
        assert body["models"]
    finally:
        s.close()


def test_two_studios_on_one_machine_keep_their_own_cookies(tiny_strokes):
    """Cookies are per host, not per port: opening a second studio's URL must not log the first
    one's tabs out. One cookie jar (one browser) visits both printed URLs, then both bare pages."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    studios = [Studio("--host", "0.0.0.0") for _ in range(2)]
    try:
        for s in studios:
            browser.open(s.url, timeout=10).read()  # ?token=...: sets that studio's cookie
        assert len({c.name for c in jar}) == 2
        for s in studios:
            assert json.loads(browser.open(s.base + "/api/models", timeout=10).read())["models"]
    finally:
        for s in studios:
            s.close()


def test_uploads_are_limited_and_read_strictly(studio, tmp_path):
    def post(name: str, data: bytes):
        req = urllib.request.Request(f"{studio.base}/upload?name={name}", data=data, method="POST")
        try:
            return 200, json.loads(urllib.request.urlopen(req, timeout=30).read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    assert post("evil.exe", b"MZ")[0] == 400
    code, body = post("bad.mid", b"MThd this is no MIDI")
    assert code == 200
    with studio.socket() as ws:
        got = ask(ws, {"cmd": "continue", "model": "nottingham", "upload": body["upload"]}, until=("error",))
    assert "not a MIDI file" in got[-1]["message"] or "MIDI" in got[-1]["message"]
    assert studio.alive()


def test_upload_over_the_limit_is_refused(tiny_strokes):
    """An upload that declares more than the limit is refused before its body is read."""
    import http.client

    s = Studio(env={"SEQART_MAX_PRIME_MB": "0.5"})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        conn.putrequest("POST", "/upload?name=big.mid")
        conn.putheader("Content-Length", str(2**20))
        conn.endheaders()  # and no body: the answer must come without it
        r = conn.getresponse()
        assert r.status == 413 and "over the limit of 0.5 MiB" in json.loads(r.read())["error"]
        conn.close()
        assert s.alive()
    finally:
        s.close()


def test_a_broken_model_is_a_message(tmp_path, tiny_strokes):
    broken = tmp_path / "runs" / "broken"
    broken.mkdir(parents=True)
    (broken / "model.json").write_text('{"model": {"hidden": true}, "codec": {"modality": "strokes"}}')
    (broken / "model.safetensors").write_bytes(b"not weights")
    s = Studio("--models", str(tmp_path / "runs"))
    try:
        with s.socket() as ws:
            got = ask(ws, {"cmd": "continue", "model": "broken", "drawing": DRAWING}, until=("error",))
            assert "broken" in got[-1]["message"]
            assert ask(ws, {"cmd": "continue", "model": "sheep", "frames": 3}, until=("end",))[-1]["frames"] <= 3
    finally:
        s.close()


def test_a_midi_upload_primes_and_the_answer_exports_as_midi(studio, tmp_path):
    import base64

    tune = Path(__file__).resolve().parent.parent / "datasets" / "midi" / "nottingham" / "jigs1.mid"
    req = urllib.request.Request(f"{studio.base}/upload?name=jigs1.mid", data=tune.read_bytes(), method="POST")
    key = json.loads(urllib.request.urlopen(req, timeout=30).read())["upload"]
    with studio.socket() as ws:
        got = ask(ws, {"cmd": "continue", "model": "nottingham", "upload": key, "echo": True, "seconds": 3, "seed": 2},
                  until=("end",))
        primer = [m for m in got if m["type"] == "event" and m.get("primer")]
        answer = [m for m in got if m["type"] == "event" and not m.get("primer")]
        assert primer and answer and answer[0]["t"] >= primer[-1]["t"]  # the answer follows the tune
        phrase = [[m["args"][0], m["args"][1], m["t"], m["args"][2]] for m in primer + answer]
        f = ask(ws, {"cmd": "export", "model": "nottingham", "format": "mid", "phrase": phrase}, until=("file",))[-1]
    out = tmp_path / f["name"]
    out.write_bytes(base64.b64decode(f["data"]))
    import seqart

    notes = seqart.read(out)[0]
    assert len(notes) == len(phrase)


def test_a_dance_streams_joint_positions_and_exports_as_bvh(studio, tmp_path):
    import base64

    import seqart

    with studio.socket() as ws:
        got = ask(ws, {"cmd": "continue", "model": "salsa", "seconds": 1.0, "seed": 4}, until=("end",), timeout=120)
        start, poses = got[0], [m for m in got if m["type"] == "event"]
        f = ask(ws, {"cmd": "export", "model": "salsa", "format": "bvh"}, until=("file",))[-1]
    joints = len(start["joints"])
    assert joints == len(start["parents"]) and start["parents"][0] == -1
    assert poses and all(m["address"] == "/seqart/pose" and len(m["args"]) == 3 * joints for m in poses)
    out = tmp_path / f["name"]
    out.write_bytes(base64.b64decode(f["data"]))
    assert len(seqart.read(out)[0]) > 0  # seqart's own strict BVH reader takes it back


@pytest.mark.parametrize("args,reason", [(["--models", "/nonexistent/runs"], "not a folder"),
                                         (["--port", "70000"], "70000"),
                                         (["--host", "203.0.113.7"], "cannot listen on 203.0.113.7")])
def test_studio_command_errors_are_one_line(args, reason):
    import subprocess
    import sys

    from studio_fixtures import ROOT

    r = subprocess.run([sys.executable, "-m", "seqart.cli", "studio", *args], capture_output=True, text=True,
                       timeout=120, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and reason in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
