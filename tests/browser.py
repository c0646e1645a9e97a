"""Debian's chromium, headless, driven by Selenium through Debian's chromedriver (no browser download).

`browser()` gives a fresh WebDriver (its own --user-data-dir). When chromium, chromedriver or
selenium is missing the test is skipped with the reason, except under CI=true, where it fails:
.ci/run installs them (tests/peers.py's rule).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = ("/usr/bin/chromium", "chromium")
DRIVER = ("/usr/bin/chromedriver", "chromedriver")


def _find(names) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; CI=true requires it (.ci/run installs chromium and chromium-driver)")
    pytest.skip(reason)


def browser():
    """A headless chromium WebDriver; quit() it when done."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ModuleNotFoundError:
        _missing("selenium is not installed (the test extra has it)")
    chromium, driver = _find(CHROMIUM), _find(DRIVER)
    if chromium is None or driver is None:
        _missing("chromium or chromedriver not found (apt install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="seqart-chromium-")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1100,900"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    drv.seqart_profile = profile
    return drv


def close(drv) -> None:
    drv.quit()
    shutil.rmtree(drv.seqart_profile, ignore_errors=True)


def wait_for(drv, script: str, timeout: float = 30.0):
    """Poll a JS expression until it is truthy; its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout, poll_frequency=0.05).until(lambda d: d.execute_script("return " + script))
