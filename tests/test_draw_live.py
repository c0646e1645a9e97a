"""DRAW played live: the window and the canvas each step, in time, under the usual controls, into oscdump."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pythonosc.udp_client import SimpleUDPClient

from live_fixtures import free_port, write_piece
from live_peers import oscdump_messages, perform, perform_to_oscdump
from tests.samples import bar_images
from seqart.codecs.canvas import CanvasCodec
from seqart.config import defaults, merge
from seqart.live.clock import InternalClock
from seqart.live.control import ControlServer
from seqart.live.engine import Engine
from seqart.codecs.canvas.live import CanvasRenderer, frame_bytes, frame_window
from seqart.live.perform import load_voice
from seqart.live.piece import load_piece
from seqart.live.sinks import EchoSink

torch.set_num_threads(1)
SIZE, T, FPS = 8, 4, 16.0  # the tiny model: 8 x 8 canvases drawn in 4 steps, 16 steps a second


@pytest.fixture(scope="module")
def tiny_draw(tmp_path_factory):
    """A tiny DRAW trained a few steps on bars (an MNIST-style IDX file written here)."""
    from seqart.train import train

    folder = tmp_path_factory.mktemp("draw_live")
    bar_images(folder / "bars-idx3-ubyte", 40)  # 8 x 8 = SIZE x SIZE
    cfg = merge(defaults(CanvasCodec().options, "draw"), None, [
        f"codec.size={SIZE}", f"model.glimpses={T}", "model.enc_hidden=16", "model.dec_hidden=16", "model.z_dim=4",
        "model.write_n=3", "train.batch_size=10", "train.threads=1", "train.steps=10", "train.valid_every=10"])
    train(folder / "bars-idx3-ubyte", folder / "run", cfg, progress=False)
    return folder / "run"


def draw_voice(piece_path, seed=0):
    sampler, renderer, _ = load_voice(load_piece(piece_path, [f"piece.seed={seed}"]))
    return sampler, renderer


def test_a_draw_piece_streams_window_and_canvas_to_oscdump_in_time(tiny_draw, tmp_path):
    piece = write_piece(tmp_path / "canvas.toml", tiny_draw, piece={"gap_beats": 0.5, "seed": 1})
    r, dump = perform_to_oscdump(piece, 2.5, "--set", "osc.mode=message")
    assert r.returncode == 0, r.stderr
    windows = oscdump_messages(dump, "/seqart/canvas/window")
    pixels = oscdump_messages(dump, "/seqart/canvas/pixels")
    ends = oscdump_messages(dump, "/seqart/canvas/end")
    assert len(windows) >= 2 * T and len(pixels) == len(windows) and len(ends) >= 2, r.stderr
    assert all(m[3] == "ffff" for m in windows)
    x, y, stride, sigma = np.array([[float(v) for v in m[4]] for m in windows]).T
    assert np.isfinite([x, y]).all() and (stride > 0).all() and (sigma > 0).all()
    # width, height, then the canvas as a blob of H*W bytes (oscdump prints its size)
    assert all(m[3] == "iib" and m[4] == [str(SIZE), str(SIZE), f"[{SIZE * SIZE}", "byte", "blob]"] for m in pixels)
    # one step every 1/fps seconds inside a canvas (oscdump stamps plain messages on arrival)
    stamps = np.array([m[1] for m in windows])
    gaps = np.diff(stamps)
    inside = gaps[gaps < 0.75 * (0.5 * 0.5 + 1 / FPS)]  # not the rest between canvases (gap_beats at 120 BPM)
    assert len(inside) >= T and abs(np.median(inside) - 1 / FPS) < 0.005


def test_draw_plays_under_temperature_stop_start_and_a_model_switch(tiny_draw, tiny_strokes, tmp_path):
    from live_fixtures import voice

    piece = write_piece(tmp_path / "canvas.toml", tiny_draw, piece={"gap_beats": 0.1})
    sampler, renderer = draw_voice(piece)
    assert isinstance(renderer, CanvasRenderer)
    echo, lines = EchoSink(), []
    eng = Engine(sampler, renderer, InternalClock(120.0), [echo], lines.append, gap_beats=0.1)
    server = ControlServer(eng, 0, status=lines.append, loader=lambda kind, text: (*voice(tiny_strokes), text))
    client = SimpleUDPClient("127.0.0.1", server.port)
    eng.start()
    try:
        client.send_message("/seqart/temperature", 0.3)
        eng.run(0.8)
        assert eng.sampler.temperature == pytest.approx(0.3)
        canvases = [r for r in echo.rows if r[2] == "/seqart/canvas/pixels"]
        assert len(canvases) >= T and all(len(r[3][2]) == SIZE * SIZE for r in canvases)
        client.send_message("/seqart/prime/frames", [0.0] * (4 + SIZE * SIZE))  # DRAW cannot be primed: one line
        client.send_message("/seqart/stop", [])
        eng.run(0.3)
        n = len(echo.rows)
        eng.run(0.5)
        assert len(echo.rows) == n  # stopped: nothing more is sent
        client.send_message("/seqart/start", [])
        eng.run(0.5)
        assert len(echo.rows) > n
        client.send_message("/seqart/model", "strokes")  # to a pen model, keeping time and temperature
        eng.run(0.8)
    finally:
        server.close()
        eng.stop()
    assert any("cannot be primed" in line for line in lines), lines
    assert any(r[2] == "/seqart/pen" for r in echo.rows) and eng.sampler.temperature == pytest.approx(0.3)


def test_a_draw_piece_refuses_a_primer_in_one_line(tiny_draw, tmp_path):
    from PIL import Image

    Image.new("L", (SIZE, SIZE)).save(tmp_path / "start.png")  # an image the canvas codec reads
    piece = write_piece(tmp_path / "canvas.toml", tiny_draw, piece={"prime": str(tmp_path / "start.png")})
    r = perform(piece, 0.5, "--osc", f"127.0.0.1:{free_port()}")
    assert r.returncode == 2 and "cannot be primed" in r.stderr and "Traceback" not in r.stderr


def test_a_canvas_frame_becomes_bytes_row_major_from_the_top_left():
    grey = np.zeros((4, 4), np.float32)
    grey[0, 1], grey[2, 3], grey[3, 0] = 1.0, 0.5, np.nan  # ink, half ink, a poisoned pixel (sent blank)
    frame = np.concatenate([[1.5, 2.5, 1.0, 0.5], grey.reshape(-1)]).astype(np.float32)
    assert frame_window(frame) == (1.5, 2.5, 1.0, 0.5)
    got = np.frombuffer(frame_bytes(frame), np.uint8).reshape(4, 4)
    assert got[0, 1] == 255 and got[2, 3] == 128 and got[3, 0] == 0 and got.sum() == 255 + 128
