"""What the playground's tests and ``bench/playground_fps.py`` share: a playground server
in a thread, and Debian's Chromium started headless.

The browser and its driver are given by path, so Selenium Manager never runs (it would
try to download a driver). The flags are those that work on these machines: without the
background-networking ones, Chromium keeps trying to reach Google's hosts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lucidnet.playground import PlaygroundServer, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1500,1000",
)


@contextmanager
def serving(max_sessions: int = 8) -> Iterator[PlaygroundServer]:
    """A playground server on 127.0.0.1 (a free port) for the ``with`` block."""
    server = make_server("127.0.0.1", 0, max_sessions=max_sessions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def chrome(profile: Path, prefs: dict[str, Any] | None = None, browser_log: bool = False) -> Any:
    """Headless Chromium with its profile in ``profile`` (a new, empty folder)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (*CHROME_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
