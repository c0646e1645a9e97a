"""The studio's pages as docs/img/studio_*.png: a real studio, a real show and headless chromium.

    .venv/bin/python docs/studio_screenshots.py      # about a minute; needs chromium and chromedriver
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
ENV = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                f"--user-data-dir={tempfile.mkdtemp(prefix='seqart-shots-')}", "--window-size=1000,760",
                "--hide-scrollbars"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait(drv, script: str, timeout: float = 60.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout, poll_frequency=0.05).until(lambda d: d.execute_script("return " + script))


def main() -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    studio = subprocess.Popen([sys.executable, "-m", "seqart.cli", "studio", "--port", "0"], stderr=subprocess.PIPE,
                              text=True, env=ENV)
    base = re.search(r"(http://127\.0\.0\.1:\d+)/", studio.stderr.readline()).group(1)
    control, sink = free_port(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    piece = Path(tempfile.mkdtemp()) / "show.toml"
    piece.write_text(f'[piece]\nmodel = "sheep"\ntemperature = 0.4\nseed = 3\n[render]\nscale = 0.8\n'
                     f'origin = [250.0, 120.0]\n[control]\nosc_port = {control}\n')
    show = subprocess.Popen([sys.executable, "-m", "seqart.cli", "perform", str(piece), "--osc",
                             f"127.0.0.1:{sink.getsockname()[1]}", "--duration", "120"], env=ENV,
                            stderr=subprocess.DEVNULL)
    time.sleep(2)
    drv = browser()
    try:
        drv.get(base + "/draw")
        wait(drv, "document.body.dataset.ready")
        board = drv.find_element("id", "board")
        chain = ActionChains(drv).move_to_element_with_offset(board, -60, -40).click_and_hold()
        for dx, dy in [(20, -10), (25, -5), (25, 5), (20, 15), (5, 20), (-15, 15), (-30, 5), (-30, -5), (-20, -20)]:
            chain.move_by_offset(dx, dy)
        chain.release().perform()
        wait(drv, "document.getElementById('state').textContent.startsWith('done')")
        drv.save_screenshot(str(IMG / "studio_draw.png"))
        drv.get(base + "/inside")
        wait(drv, "document.body.dataset.ready")
        drv.find_element("id", "look").click()
        wait(drv, "document.body.dataset.inside")
        drv.save_screenshot(str(IMG / "studio_inside.png"))
        drv.get(base + "/play")
        wait(drv, "document.body.dataset.ready")
        chain = ActionChains(drv)
        for key in "dsadffdssdfhhf":
            chain.key_down(key).pause(0.18).key_up(key).pause(0.04)
        chain.perform()
        drv.find_element("id", "continue").click()
        wait(drv, "document.getElementById('state').textContent.startsWith('done')")
        drv.save_screenshot(str(IMG / "studio_play.png"))
        drv.get(base + "/dance")
        wait(drv, "document.body.dataset.ready")
        drv.find_element("id", "dance").click()
        wait(drv, "Number(document.getElementById('frames').textContent) > 60")
        drv.save_screenshot(str(IMG / "studio_dance.png"))
        drv.get(base + "/perform")
        wait(drv, "document.body.dataset.ready")
        field = drv.find_element("id", "control")
        field.clear()
        field.send_keys(str(control))
        drv.find_element("id", "connect").click()
        wait(drv, "Number(document.getElementById('received').textContent) > 150")
        drv.save_screenshot(str(IMG / "studio_perform.png"))
    finally:
        drv.quit()
        show.terminate()
        studio.terminate()
    for name in ("draw", "inside", "play", "dance", "perform"):
        print(IMG / f"studio_{name}.png")


if __name__ == "__main__":
    main()
