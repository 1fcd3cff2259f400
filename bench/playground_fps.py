"""The playground's frame rate in a real browser, by the page's own frame counter.

A frame is one full update: the page asks the server to train one epoch, the server
answers with every neuron's heatmap, the weights and the losses, and the page draws them
all (every heatmap, every weight line, the output with its points, the loss curve). The
page counts finished frames (``window.playground.stats.frames``); this script reads that
counter before and after ``--seconds`` of play, in a fresh page per round, for the
default network (2 inputs, 4-2 hidden, 50 x 50 heatmaps) and the largest one (6 hidden
layers of 8). It also times the server's share of a frame (``Session.train(1)`` and
``snapshot()``) in this process.

Needs Selenium and Debian's chromium and chromium-driver (``make test``'s environment)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/playground_fps.py \\
        [--seconds 5] [--rounds 5] [--screenshot docs/playground.png] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from lucidnet.playground import Session, Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from headless import chrome, serving

SETUPS = {
    "default (2 inputs, 4-2 hidden, 50x50)": "",
    "largest (6 inputs, 6 x 8 hidden, 50x50)": (
        "features=x1,x2,x1^2,x2^2,x1*x2,sin(x1)&layers=8,8,8,8,8,8&"
        "activations=tanh,tanh,tanh,tanh,tanh,tanh"
    ),
}
SCREENSHOT_SETUP = (
    "dataset=spiral&classes=3&layers=8,8&activations=relu,relu&optimizer=adam&"
    "learning_rate=0.01&noise=0.1"
)

PICK_SAMPLE = """
const canvas = document.getElementById("output"), box = canvas.getBoundingClientRect();
const [px, py] = toPixel(...window.playground.state.setup.train.points[arguments[0]]);
canvas.dispatchEvent(new MouseEvent("click", {
  clientX: box.left + px * box.width / canvas.width,
  clientY: box.top + py * box.height / canvas.height, bubbles: true}));
"""


def load(driver, url: str, fragment: str) -> None:
    # A tab keeps its session id in sessionStorage: forget it (on a page of the same origin
    # that runs no script) so that the page starts a new session from the fragment.
    driver.get(url + "static/playground.css")
    driver.execute_script("sessionStorage.clear()")
    driver.get(url + ("#" + fragment if fragment else ""))
    deadline = time.time() + 20
    while driver.execute_script("return document.body.dataset.ready") != "true":
        if time.time() > deadline:
            raise RuntimeError("the page did not get ready in 20 s")
        time.sleep(0.05)


def play_rate(driver, seconds: float) -> float:
    """Full updates per second over ``seconds`` of play (after one second of warm-up)."""
    driver.find_element(By.ID, "play").click()
    time.sleep(1.0)
    f0, t0 = driver.execute_script("return [window.playground.stats.frames, performance.now()]")
    time.sleep(seconds)
    f1, t1 = driver.execute_script("return [window.playground.stats.frames, performance.now()]")
    driver.find_element(By.ID, "play").click()
    return (f1 - f0) / ((t1 - t0) / 1000)


def server_ms(fragment: str, frames: int = 200) -> float:
    """The median time of the server's part of a frame: one epoch and the snapshot."""
    given = {}
    for part in filter(None, fragment.split("&")):
        key, value = part.split("=")
        given[key] = value.split(",") if key in ("features", "activations") else value
    if "layers" in given:
        given["layers"] = [int(v) for v in given["layers"].split(",")]
    session = Session(Settings.from_dict(given))
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        session.train(1)
        session.snapshot()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--screenshot", help="save a screenshot of a trained spiral here")
    parser.add_argument("--out", default="bench/results/playground_fps.json")
    args = parser.parse_args()
    results = {}
    with serving() as server, tempfile.TemporaryDirectory() as profile:
        driver = chrome(Path(profile))
        try:
            for _ in range(args.rounds):  # interleaved: each round runs every set-up once
                for name, fragment in SETUPS.items():
                    load(driver, server.url, fragment)
                    results.setdefault(name, []).append(play_rate(driver, args.seconds))
            if args.screenshot:
                load(driver, server.url, SCREENSHOT_SETUP)
                driver.find_element(By.ID, "play").click()
                time.sleep(2)
                driver.find_element(By.ID, "play").click()
                driver.find_element(By.ID, "show-test").click()
                sid = driver.execute_script("return window.playground.session")
                session = server.sessions.get(sid)[0]
                p = session.network.predict(session.x_train)
                hardest = int(p[range(len(p)), session.labels_train].argmin())  # a lesson
                driver.execute_script(PICK_SAMPLE, hardest)
                hidden = session.neuron_outputs(session.x_train[hardest : hardest + 1])[1]
                busiest = int(abs(hidden[0]).argmax())  # a neuron with numbers to show
                driver.find_element(
                    By.CSS_SELECTOR, f'.node[data-layer="1"][data-neuron="{busiest}"]'
                ).click()
                driver.set_window_size(1500, 1080)
                time.sleep(1)
                driver.save_screenshot(args.screenshot)
        finally:
            driver.quit()
    rows = {
        name: {
            "updates_per_s_median": statistics.median(rates),
            "updates_per_s_min": min(rates),
            "rounds": [round(r, 1) for r in rates],
            "server_ms_per_frame": server_ms(SETUPS[name]),
        }
        for name, rates in results.items()
    }
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    print("| network | updates/s (median) | slowest round | server ms per frame |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['updates_per_s_median']:.1f} | {r['updates_per_s_min']:.1f} "
            f"| {r['server_ms_per_frame']:.2f} |"
        )


if __name__ == "__main__":
    main()
