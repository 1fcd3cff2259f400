"""The playground page in a real browser (headless Chromium driven by Selenium).

The page's numbers are checked against the server's ``Session`` of the same page (the
page's session id is ``window.playground.session``), not only their presence. One server
and one browser serve the whole module; every test opens a fresh page (a new session).

Skipped when Selenium, ``/usr/bin/chromium`` or ``/usr/bin/chromedriver`` is missing.
Selenium Manager never runs: the driver and the browser are given by path.
"""

from __future__ import annotations

import csv
import http.client
import http.server
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

import lucidnet
from headless import CHROMEDRIVER, CHROMIUM, chrome, serving
from lucidnet.playground import data as pdata

try:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError as err:  # pragma: no cover - depends on the machine
    SELENIUM_MISSING = f"selenium is not installed ({err})"
else:
    SELENIUM_MISSING = ""

SRC = Path(__file__).resolve().parent.parent / "src"

# Counts the page's API requests whose answer it has not yet read (``window.__pending``).
# The count drops in the same microtask checkpoint as the page handles the answer, so a
# script that sees 0 sees the page after it drew the answer.
PENDING_HOOK = """
window.__pending = 0;
const fetchBefore = window.fetch;
window.fetch = function (...args) {
  window.__pending += 1;
  return fetchBefore.apply(this, args).catch((err) => { window.__pending -= 1; throw err; });
};
const jsonBefore = Response.prototype.json;
Response.prototype.json = function () {
  return jsonBefore.call(this).finally(() => { window.__pending -= 1; });
};
"""

# TensorFlow Playground's colours, as playground.js paints an int8 heatmap value
WHITE, ORANGE, BLUE = (232, 234, 235), (245, 147, 34), (8, 119, 189)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def driver():
    if SELENIUM_MISSING:
        pytest.skip(SELENIUM_MISSING)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.skip(f"{path} is not installed")
    profile = tempfile.TemporaryDirectory(prefix="playground-chrome-")
    downloads = Path(profile.name) / "downloads"
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    browser = chrome(Path(profile.name) / "profile", prefs, browser_log=True)
    try:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PENDING_HOOK})
        yield browser
    finally:
        browser.quit()
        profile.cleanup()


# --- helpers --------------------------------------------------------------------------------


def wait_until(condition, timeout=10.0, what=""):
    """Poll ``condition()`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def wait_ready(driver, timeout=10.0):
    wait_until(
        lambda: js(driver, "return document.body && document.body.dataset.ready") == "true",
        timeout,
        "the page to set itself up",
    )
    settle(driver)


def settle(driver, timeout=10.0):
    """Wait until the page has read the answer of every request it made."""
    wait_until(lambda: js(driver, "return window.__pending") == 0, timeout, "pending requests")


def open_page(driver, server, fragment=""):
    """A fresh page (a new session) at ``server.url + fragment``."""
    driver.get("about:blank")  # a real load even when only the fragment would differ
    driver.get_log("browser")  # forget the earlier pages' console
    driver.get(server.url + fragment)
    wait_ready(driver)


def session_of(driver, server):
    """The server's ``(Session, lock)`` of the open page."""
    sid = js(driver, "return window.playground.session")
    return server.sessions._sessions[sid]


def page_state(driver, key):
    return js(driver, f"return window.playground.state.{key}")


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def click(driver, element_id):
    driver.find_element(By.ID, element_id).click()


def visible(driver, element_id):
    return driver.find_element(By.ID, element_id).is_displayed()


def numbers(s):
    """The decimal numbers written in ``s`` (as ``toFixed`` writes them)."""
    return [float(v) for v in re.findall(r"-?\d+\.\d+", s)]


def set_control(driver, element_id, value):
    """Set an input's value and fire its ``change`` event, as a user's edit would."""
    js(
        driver,
        "const el = document.getElementById(arguments[0]); el.value = arguments[1];"
        "el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change'));",
        element_id,
        value,
    )


def wait_setting(driver, key, value, timeout=10.0):
    wait_until(
        lambda: page_state(driver, f"settings.{key}") == value, timeout, f"{key} = {value!r}"
    )
    settle(driver)


def nodes(driver, layer):
    return driver.find_elements(By.CSS_SELECTOR, f'.node[data-layer="{layer}"]')


def step_epochs(driver, n):
    """Press #step ``n`` times, each time waiting for the epoch to go up."""
    for _ in range(n):
        before = int(text(driver, "epoch"))
        click(driver, "step")
        wait_until(lambda b=before: int(text(driver, "epoch")) == b + 1, what="one epoch")
    settle(driver)


def canvas_pixels(driver, css):
    """The RGBA pixels of the first canvas matching ``css``: ``(height, width, 4)``."""
    w, h, data = js(
        driver,
        "const c = document.querySelector(arguments[0]);"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "return [c.width, c.height, Array.from(d)];",
        css,
    )
    return np.array(data, dtype=np.int64).reshape(h, w, 4)


def colour(q):
    """playground.js's colour of the int8 heatmap value ``q``."""
    v = max(-127, int(q)) / 127
    other, t = (ORANGE, -v) if v < 0 else (BLUE, v)
    return [math.floor(a + (b - a) * t + 0.5) for a, b in zip(WHITE, other, strict=True)]


def wait_download(folder, name, timeout=10.0):
    path = Path(folder) / name

    def done():
        partial = list(Path(folder).glob("*.crdownload"))
        return path.is_file() and path.stat().st_size > 0 and not partial

    wait_until(done, timeout, f"the download {name}")
    return path


def download_to(driver, folder):
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )


# --- 1. loading -----------------------------------------------------------------------------


def test_page_loads_with_the_defaults_and_paints_the_heatmaps(driver, server):
    open_page(driver, server)
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    assert not visible(driver, "message")

    assert Select(driver.find_element(By.ID, "dataset")).first_selected_option.text == "circle"
    assert driver.find_element(By.ID, "learning_rate").get_attribute("value") == "0.03"
    assert text(driver, "layer-count") == "2"
    settings = page_state(driver, "settings")
    assert settings["layers"] == [4, 2]
    assert settings["activations"] == ["tanh", "tanh"]
    assert settings["learning_rate"] == 0.03
    assert settings["features"] == ["x1", "x2"]
    assert "layers=4,2" in driver.current_url and "dataset=circle" in driver.current_url
    activations = driver.find_elements(By.CSS_SELECTOR, ".layer-head select")
    assert [Select(s).first_selected_option.text for s in activations] == ["tanh", "tanh"]

    assert [len(nodes(driver, layer)) for layer in (0, 1, 2, 3)] == [4, 2, 1, 0]
    assert len(driver.find_elements(By.CSS_SELECTOR, ".node[data-feature]")) == 7
    assert len(driver.find_elements(By.CSS_SELECTOR, ".node[data-feature]:not(.off)")) == 2
    assert len(driver.find_elements(By.CSS_SELECTOR, "#links path")) == 2 * 4 + 4 * 2 + 2 * 1

    # every heatmap painted: not one colour
    for css in [
        f'.node[data-layer="{la}"][data-neuron="{j}"] canvas' for la in (0, 1) for j in (0, 1)
    ]:
        pixels = canvas_pixels(driver, css)
        assert pixels.shape == (50, 50, 4)
        assert len({tuple(p) for p in pixels.reshape(-1, 4)}) > 10, css
    out = canvas_pixels(driver, "#output")
    assert len({tuple(p) for p in out.reshape(-1, 4)}) > 2

    # and painted with the session's numbers: hidden neuron 1.2's activation over the plane
    session, lock = session_of(driver, server)
    with lock:
        h = session.neuron_outputs(session.grid)[0][:, 1]
    q = np.rint(np.clip(h, -1, 1) * 127).astype(int)
    expected = np.array([colour(v) for v in q]).reshape(50, 50, 3)
    pixels = canvas_pixels(driver, '.node[data-layer="0"][data-neuron="1"] canvas')
    assert np.abs(pixels[..., :3] - expected).max() <= 1
    assert (pixels[..., 3] == 255).all()


# --- 2. settings and the address ----------------------------------------------------------


def test_controls_change_the_settings_and_the_address(driver, server):
    open_page(driver, server)
    Select(driver.find_element(By.ID, "dataset")).select_by_value("xor")
    wait_setting(driver, "dataset", "xor")
    assert "dataset=xor" in driver.current_url
    set_control(driver, "noise", "0.25")
    wait_setting(driver, "noise", 0.25)
    Select(driver.find_element(By.ID, "optimizer")).select_by_value("adam")
    wait_setting(driver, "optimizer", "adam")
    url = driver.current_url
    assert "dataset=xor" in url and "noise=0.25" in url and "optimizer=adam" in url
    assert driver.find_element(By.CSS_SELECTOR, 'output[for="noise"]').text == "0.25"

    session, lock = session_of(driver, server)
    with lock:
        assert (session.settings.dataset, session.settings.noise) == ("xor", 0.25)
        assert type(session.network.optimizer).__name__ == "Adam"
        points = session.data.points.copy()
    expected = pdata.generate("xor", 500, 0.25, 2, seed=1)
    np.testing.assert_array_equal(points, expected.points)
    train = np.array(page_state(driver, "setup.train.points"))
    np.testing.assert_allclose(train, expected.points[:250], rtol=1e-5, atol=1e-5)


def test_an_address_with_settings_sets_them_up(driver, server):
    fragment = (
        "#dataset=spiral&classes=3&layers=8,8&activations=relu,relu"
        "&optimizer=adam&learning_rate=0.01"
    )
    open_page(driver, server, fragment)
    assert not visible(driver, "message")
    settings = page_state(driver, "settings")
    assert settings["dataset"] == "spiral" and settings["classes"] == 3
    assert settings["layers"] == [8, 8] and settings["activations"] == ["relu", "relu"]
    assert settings["optimizer"] == "adam" and settings["learning_rate"] == 0.01
    assert driver.find_element(By.ID, "dataset").get_attribute("value") == "spiral"
    assert driver.find_element(By.ID, "classes").get_attribute("value") == "3"
    assert driver.find_element(By.ID, "optimizer").get_attribute("value") == "adam"
    assert driver.find_element(By.ID, "learning_rate").get_attribute("value") == "0.01"
    activations = driver.find_elements(By.CSS_SELECTOR, ".layer-head select")
    assert [s.get_attribute("value") for s in activations] == ["relu", "relu"]
    assert [len(nodes(driver, layer)) for layer in (0, 1, 2)] == [8, 8, 3]
    session, lock = session_of(driver, server)
    with lock:
        s = session.settings
        assert (s.dataset, s.classes, s.layers, s.optimizer) == ("spiral", 3, [8, 8], "adam")
        assert session.data.classes == ["0", "1", "2"]


def test_an_address_with_a_bad_setting_says_so_and_uses_the_defaults(driver, server):
    open_page(driver, server, "#layers=99")
    assert visible(driver, "message")
    message = text(driver, "message")
    assert "setting 'layers' must list 0 to 6 hidden layers of 1 to 8 neurons" in message
    assert "[99]" in message and "the address's settings were not used" in message
    assert page_state(driver, "settings.layers") == [4, 2]
    assert text(driver, "layer-count") == "2"
    assert "layers=4,2" in driver.current_url
    session, lock = session_of(driver, server)
    with lock:
        assert session.settings.layers == [4, 2]


# --- 3. playing ---------------------------------------------------------------------------


def pause_with_a_frame_in_flight(driver, server):
    """Press pause (a click on #play, in the page) while the page waits for a frame's
    answer: the usual moment, as a frame is mostly its request (16 of 20 Selenium clicks
    landed there when tried), made certain here by holding the session's lock meanwhile."""
    session, lock = session_of(driver, server)
    with lock:
        epoch = session.epoch
        wait_until(
            lambda: js(
                driver,
                "if (window.__pending === 1 && window.playground.state.playing &&"
                "    document.getElementById('epoch').textContent === String(arguments[0])) {"
                "  document.getElementById('play').click(); return true; }"
                "return false;",
                epoch,
            ),
            what="a frame's request waiting for the server",
        )
    settle(driver)
    assert not page_state(driver, "playing")


def test_play_trains_and_the_page_agrees_with_the_session(driver, server):
    open_page(driver, server)
    session, lock = session_of(driver, server)
    before = float(text(driver, "test-loss"))
    with lock:
        assert before == pytest.approx(session.history[0]["test_loss"], abs=5e-5)
    click(driver, "play")
    wait_until(lambda: int(text(driver, "epoch")) > 30, 20, "epoch 30")
    pause_with_a_frame_in_flight(driver, server)
    after = float(text(driver, "test-loss"))
    assert after < 0.8 * before, (before, after)

    # the page shows what the session holds: the frame answered after the pause included
    with lock:
        epoch, history = session.epoch, list(session.history)
    assert text(driver, "play") == "▶ play"
    shown = page_state(driver, "history")
    assert (int(text(driver, "epoch")), len(shown)) == (epoch, len(history))
    assert page_state(driver, "snapshot.epoch") == epoch
    assert shown == history
    assert float(text(driver, "test-loss")) == pytest.approx(history[-1]["test_loss"], abs=5e-5)


# --- 4. frames per second -----------------------------------------------------------------


def test_the_frame_counter_counts_the_last_second(driver, server, capsys):
    open_page(driver, server)
    js(
        driver,
        "window.__drawn = [];"
        "new MutationObserver(() => window.__drawn.push(performance.now()))"
        ".observe(document.getElementById('epoch'), {childList: true});",
    )
    click(driver, "play")
    first = wait_until(lambda: js(driver, "return window.playground.stats.times[0]"), 10)
    wait_until(lambda: js(driver, "return performance.now()") > first + 1500, 5, "1.5 s of play")
    frames = js(driver, "return window.playground.stats.frames")
    wait_until(
        lambda: js(driver, "return window.playground.stats.frames") > frames, 5, "another frame"
    )
    stats, drawn = js(
        driver,
        "const s = window.playground.stats;"
        "return [{fps: s.fps, frames: s.frames, times: s.times.slice()}, window.__drawn.slice()];",
    )
    click(driver, "play")
    settle(driver)
    times = stats["times"]
    assert stats["fps"] > 0
    assert stats["fps"] == len(times)
    assert times[-1] - times[0] <= 1000
    assert stats["frames"] > stats["fps"]  # earlier frames fell out of the second
    # a counter of our own: the epoch drawn once per frame, within the same second
    last = times[-1]
    ours = sum(1 for t in drawn if last - 1000 <= t <= last + 1)
    assert abs(ours - stats["fps"]) <= 1, (ours, stats["fps"])
    assert text(driver, "fps").isdigit()
    with capsys.disabled():
        print(f"\nplayground: {stats['fps']} frames in the last second (headless Chromium)")


# --- 5. layers and neurons ------------------------------------------------------------------


def test_adding_and_removing_layers_and_neurons(driver, server):
    open_page(driver, server)
    session, lock = session_of(driver, server)
    click(driver, "add-layer")
    wait_until(lambda: text(driver, "layer-count") == "3", what="3 layers")
    settle(driver)
    assert page_state(driver, "settings.layers") == [4, 2, 2]
    assert page_state(driver, "settings.activations") == ["tanh", "tanh", "tanh"]
    assert [len(nodes(driver, layer)) for layer in (0, 1, 2, 3)] == [4, 2, 2, 1]
    assert len(driver.find_elements(By.CSS_SELECTOR, ".layer-head")) == 3
    with lock:
        assert [d.out_features for d in session.dense_layers] == [4, 2, 2, 1]

    driver.find_element(By.CSS_SELECTOR, '.layer-head[data-layer="0"] .neuron-add').click()
    wait_setting(driver, "layers", [5, 2, 2])
    assert len(nodes(driver, 0)) == 5
    assert len(driver.find_elements(By.CSS_SELECTOR, "#links path")) == 2 * 5 + 5 * 2 + 2 * 2 + 2
    with lock:
        assert [d.out_features for d in session.dense_layers] == [5, 2, 2, 1]

    click(driver, "remove-layer")
    wait_until(lambda: text(driver, "layer-count") == "2", what="2 layers")
    settle(driver)
    assert page_state(driver, "settings.layers") == [5, 2]
    assert [len(nodes(driver, layer)) for layer in (0, 1, 2, 3)] == [5, 2, 1, 0]
    with lock:
        assert [d.out_features for d in session.dense_layers] == [5, 2, 1]


# --- 6. a sample and a neuron -------------------------------------------------------------


def click_sample(driver, index, which="train"):
    """Click the drawn point of sample ``index`` on #output, where the page's pickSample
    maps it back: ``canvas pixel = (clientX - rect.left) * width / rect.width``."""
    setup = page_state(driver, "setup")
    x0, x1, y0, y1 = setup["domain"]
    x, y = setup[which]["points"][index]
    canvas = driver.find_element(By.ID, "output")
    rect = js(driver, "return arguments[0].getBoundingClientRect().toJSON()", canvas)
    width, height = js(driver, "return [arguments[0].width, arguments[0].height]", canvas)
    px, py = (x - x0) / (x1 - x0) * width, (y1 - y) / (y1 - y0) * height
    dx = px * rect["width"] / width - rect["width"] / 2
    dy = py * rect["height"] / height - rect["height"] / 2
    ActionChains(driver).move_to_element_with_offset(canvas, round(dx), round(dy)).click().perform()


def lonely_sample(driver):
    """A training sample whose drawn point is at least 8 pixels from any other."""
    setup = page_state(driver, "setup")
    x0, x1, y0, y1 = setup["domain"]
    p = np.array(setup["train"]["points"])
    pixels = np.column_stack([(p[:, 0] - x0) / (x1 - x0), (y1 - p[:, 1]) / (y1 - y0)]) * 320
    d = np.hypot(*(pixels[:, None, :] - pixels[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    inside = (pixels > 20).all(axis=1) & (pixels < 300).all(axis=1)
    candidates = np.flatnonzero(inside & (d.min(axis=1) >= 8))
    candidates = candidates[candidates > 0]  # sample 0 is what the page picks by itself
    assert len(candidates), "no lonely sample to click"
    return int(candidates[0])


def row_text(driver, key):
    return driver.find_element(By.CSS_SELECTOR, f"#n-{key} td").text


def test_a_clicked_sample_and_neuron_show_the_sessions_numbers(driver, server):
    open_page(driver, server)
    step_epochs(driver, 2)
    index = lonely_sample(driver)
    click_sample(driver, index)
    wait_until(lambda: page_state(driver, "sample"), what="a picked sample")
    assert page_state(driver, "sample") == {"set": "train", "index": index}
    assert text(driver, "sample-info").startswith(f"Sample {index} of the train set")

    driver.find_element(By.CSS_SELECTOR, '.node[data-layer="0"][data-neuron="1"]').click()
    wait_until(lambda: visible(driver, "neuron-panel"), what="the neuron panel")
    settle(driver)
    assert text(driver, "neuron-title") == "Neuron 2 of hidden layer 1 (Tanh)"
    session, lock = session_of(driver, server)
    with lock:
        n = session.neuron("train", index, 0, 1)

    tol = 5.01e-5  # the page writes 4 decimals
    x1, w1, x2, w2, b, z = numbers(row_text(driver, "z"))
    assert [x1, x2] == pytest.approx(n["x"], abs=tol)
    assert [w1, w2] == pytest.approx(n["w"], abs=tol)
    assert b == pytest.approx(n["b"], abs=tol)
    assert z == pytest.approx(n["z"], abs=tol)
    (a,) = numbers(row_text(driver, "a"))
    assert a == pytest.approx(n["a"], abs=tol)
    (delta,) = numbers(row_text(driver, "delta"))
    assert delta == pytest.approx(n["delta"], abs=tol)
    new_w = numbers(row_text(driver, "new_w"))
    assert new_w == pytest.approx(n["new_w"], abs=tol)

    # the arithmetic, from the numbers shown
    bound = (abs(x1) + abs(w1) + abs(x2) + abs(w2) + 4) * tol
    assert x1 * w1 + x2 * w2 + b == pytest.approx(z, abs=bound)
    assert math.tanh(z) == pytest.approx(a, abs=2 * tol)
    (grad_a,) = numbers(row_text(driver, "grad_a"))
    (local,) = numbers(row_text(driver, "local"))
    assert grad_a * local == pytest.approx(delta, abs=(abs(grad_a) + abs(local) + 1) * tol)
    assert local == pytest.approx(1 - a * a, abs=3 * tol)
    grad_w = numbers(row_text(driver, "grad_w"))
    assert grad_w == pytest.approx([x1 * delta, x2 * delta], abs=(abs(x1) + abs(x2) + 2) * tol)
    lr = page_state(driver, "settings.learning_rate")
    assert new_w == pytest.approx([w1 - lr * grad_w[0], w2 - lr * grad_w[1]], abs=3 * tol)


# --- 7. one step, slowly ------------------------------------------------------------------


def test_one_step_walks_the_stages_and_applies_the_update(driver, server):
    open_page(driver, server)
    index = lonely_sample(driver)
    click_sample(driver, index)
    wait_until(lambda: page_state(driver, "sample"), what="a picked sample")
    click(driver, "onestep")
    wait_until(lambda: visible(driver, "stage"), what="the first stage")
    settle(driver)
    session, lock = session_of(driver, server)
    with lock:
        trace = session.explain("train", index)
        before = [d.weights.copy() for d in session.dense_layers]
    stages = page_state(driver, "stages")
    assert len(stages) > 8

    order = ["forward", "loss", "backward", "update"]
    phases, highlighted_layers = [], set()
    for k in range(len(stages)):
        assert text(driver, "stage-count") == f"{k + 1} / {len(stages)}"
        title = text(driver, "stage-title")
        phases.append(title.split(":")[0])
        layer = stages[k]["layer"]
        lit = driver.find_elements(By.CSS_SELECTOR, ".node.highlight")
        if layer is None:
            assert lit == []
        else:
            assert {e.get_attribute("data-layer") for e in lit} == {str(layer)}
            assert len(lit) == len(nodes(driver, layer)) > 0
            assert title.split(": ", 1)[1].startswith(f"Layer {layer + 1} ")
            highlighted_layers.add(layer)
        last = k == len(stages) - 1
        assert visible(driver, "stage-apply") == last
        if not last:
            click(driver, "stage-next")
            wait_until(lambda k=k: text(driver, "stage-count").startswith(f"{k + 2} /"))
    assert sorted(set(phases), key=order.index) == order
    assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)
    assert highlighted_layers == {0, 1, 2}

    click(driver, "stage-apply")
    wait_until(lambda: not visible(driver, "stage"), what="the update applied")
    settle(driver)
    assert driver.find_elements(By.CSS_SELECTOR, ".node.highlight") == []
    with lock:
        after = [d.weights.copy() for d in session.dense_layers]
        biases = [d.bias.copy() for d in session.dense_layers]
    for t, w0, w1, b1 in zip(trace.layers, before, after, biases, strict=True):
        assert not np.array_equal(w0, w1)
        np.testing.assert_allclose(w1, t.new_weights, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(b1, t.new_bias, rtol=1e-5, atol=1e-7)


# --- 8. uploading a CSV file ------------------------------------------------------------------


def test_an_uploaded_csv_becomes_the_data(driver, server, tmp_path):
    open_page(driver, server)
    rng = np.random.default_rng(3)
    centres = {"red": (-3.0, 0.0), "green": (3.0, 1.0), "blue": (0.0, -3.0)}
    rows = []
    for i in range(60):
        label = list(centres)[i % 3]
        cx, cy = centres[label]
        rows.append((round(cx + rng.normal(), 3), round(cy + rng.normal(), 3), label))
    good = tmp_path / "three.csv"
    with good.open("w", newline="") as f:
        csv.writer(f).writerows([("x1", "x2", "colour"), *rows])

    driver.find_element(By.ID, "upload").send_keys(str(good))
    wait_setting(driver, "dataset", "upload")
    assert not visible(driver, "message")
    assert driver.find_element(By.ID, "dataset").get_attribute("value") == "upload"
    assert page_state(driver, "setup.classes") == ["blue", "green", "red"]
    outputs = nodes(driver, 2)
    assert len(outputs) == 3
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".node-label")]
    assert labels[-3:] == ["class blue", "class green", "class red"]
    session, lock = session_of(driver, server)
    with lock:
        classes, upload_name = session.data.classes, session.upload_name
        points, targets = session.data.points.copy(), session.data.targets.copy()
        assert session.dense_layers[-1].out_features == 3
    assert classes == sorted(centres) and upload_name == "three.csv"
    got = sorted(
        (float(x), float(y), classes[t]) for (x, y), t in zip(points, targets, strict=True)
    )
    want = sorted((float(np.float32(x)), float(np.float32(y)), c) for x, y, c in rows)
    assert got == want

    bad = tmp_path / "broken.csv"
    bad.write_text("x1,x2,colour\n1.0,2.0,red\n0.5,oops,blue\n2.0,1.0,green\n")
    driver.find_element(By.ID, "upload").send_keys(str(bad))
    wait_until(lambda: visible(driver, "message"), what="the message")
    message = text(driver, "message")
    assert "broken.csv, line 3, column 2" in message and "'oops' is not a number" in message
    assert page_state(driver, "settings.dataset") == "upload"
    with lock:
        assert session.upload_name == "three.csv"


# --- 9. export --------------------------------------------------------------------------------


def test_export_gives_the_sessions_network_and_a_script_that_rebuilds_it(driver, server, tmp_path):
    open_page(driver, server)
    download_to(driver, tmp_path)
    step_epochs(driver, 3)
    session, lock = session_of(driver, server)

    click(driver, "export-lucid")
    model = lucidnet.load(wait_download(tmp_path, "playground.lucid"))
    with lock:
        x_test, expected = session.x_test.copy(), session.network.predict(session.x_test)
    np.testing.assert_array_equal(model.predict(x_test), expected)

    click(driver, "export-python")
    script = wait_download(tmp_path, "playground.py")
    assert "epochs=3" in script.read_text()
    run = tmp_path / "run"
    run.mkdir()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=run, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("test:")
    rebuilt = lucidnet.load(run / "playground.lucid")
    np.testing.assert_allclose(rebuilt.predict(x_test), expected, rtol=1e-5, atol=1e-6)


# --- 10. perceptron mode ------------------------------------------------------------------------


def test_perceptron_mode_shows_the_rule_and_separates_gauss(driver, server):
    open_page(driver, server)
    Select(driver.find_element(By.ID, "dataset")).select_by_value("gauss")
    wait_setting(driver, "dataset", "gauss")
    Select(driver.find_element(By.ID, "mode")).select_by_value("perceptron")
    wait_setting(driver, "mode", "perceptron")
    assert not visible(driver, "layer-controls")
    assert not visible(driver, "rule")
    session, lock = session_of(driver, server)

    for k in range(3):
        click(driver, "step")
        wait_until(lambda k=k: f"sample {k}:" in text(driver, "rule"), what=f"rule of sample {k}")
        settle(driver)
        with lock:
            rule = dict(session.last_rule)
        lines = text(driver, "rule").splitlines()
        assert lines[0].startswith(f"Rosenblatt's rule, sample {rule['index']}: ")
        x1, x2 = numbers(lines[0])
        assert [x1, x2] == pytest.approx(rule["x"], abs=5.01e-4)
        assert lines[0].endswith(f"y = {rule['target']:g}")
        *terms, b, z = numbers(lines[1])
        assert terms == pytest.approx([x1, rule["w"][0], x2, rule["w"][1]], abs=5.01e-4)
        assert b == pytest.approx(rule["b"], abs=5.01e-4)
        assert z == pytest.approx(rule["z"], abs=5.01e-4)
        bound = (abs(x1) + abs(x2) + abs(terms[1]) + abs(terms[3]) + 4) * 5.01e-4
        assert x1 * terms[1] + x2 * terms[3] + b == pytest.approx(z, abs=bound)
        assert lines[2].startswith(f"y_hat = step(z) = {rule['y_hat']:g}: ")
        wrong = rule["step"] != 0
        assert ("wrong" in lines[2]) == wrong and len(lines) == (5 if wrong else 3)
        if wrong:
            lr, err = page_state(driver, "settings.learning_rate"), rule["target"] - rule["y_hat"]
            assert numbers(lines[3]) == pytest.approx(rule["new_w"], abs=5.01e-4)
            assert numbers(lines[3]) == pytest.approx(
                [rule["w"][0] + lr * err * x1, rule["w"][1] + lr * err * x2], abs=2e-3
            )
            assert numbers(lines[4]) == pytest.approx([rule["new_b"]], abs=5.01e-4)
    with lock:
        assert session.cursor == 3

    click(driver, "play")
    wait_until(lambda: text(driver, "train-accuracy") == "1.000", 20, "train accuracy 1.000")
    click(driver, "play")
    settle(driver)
    with lock:
        p, x, y = session.perceptron, session.x_train, session.labels_train
        epoch = session.epoch
    assert epoch >= 1
    assert np.array_equal(p.predict(x), y)


# --- 11. editing a weight ---------------------------------------------------------------------


FIND_LINK = """
const paths = [...document.querySelectorAll('#links path.link')];
for (const path of paths) {
  const length = path.getTotalLength();
  for (const f of [0.5, 0.4, 0.6, 0.3, 0.7]) {
    const p = path.getPointAtLength(length * f).matrixTransform(path.getScreenCTM());
    for (const [dx, dy] of [[0, 0], [0, 1], [0, -1], [1, 0], [-1, 0]]) {
      const x = Math.round(p.x) + dx, y = Math.round(p.y) + dy;
      if (document.elementFromPoint(x, y) === path)
        return [x, y, path.dataset.layer, path.dataset.source, path.dataset.neuron].map(Number);
    }
  }
}
return null;
"""


def move_mouse(driver, x, y):
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(x, y)
    actions.perform()


def test_a_weight_shows_on_hover_and_is_edited_on_click(driver, server):
    open_page(driver, server)
    found = js(driver, FIND_LINK)
    assert found, "no link path under a point of itself"
    x, y, d, i, j = found
    session, lock = session_of(driver, server)
    with lock:
        value = float(session.dense_layers[d].weights[i, j])

    move_mouse(driver, x, y)
    wait_until(lambda: visible(driver, "tooltip"), what="the tooltip")
    assert text(driver, "tooltip") == f"weight {i + 1} → {j + 1}, layer {d + 1} = {value:.4f}"

    ActionChains(driver).click().perform()
    wait_until(lambda: visible(driver, "weight-editor"), what="the weight editor")
    assert text(driver, "weight-name") == f"weight {i + 1} → {j + 1}, layer {d + 1}"
    field = driver.find_element(By.ID, "weight-value")
    assert float(field.get_attribute("value")) == pytest.approx(value, abs=5.01e-5)
    field.clear()
    field.send_keys("-1.625")
    click(driver, "weight-ok")
    wait_until(lambda: not visible(driver, "weight-editor"), what="the editor to close")
    settle(driver)
    assert not visible(driver, "message")
    with lock:
        assert session.dense_layers[d].weights[i, j] == np.float32(-1.625)
    assert page_state(driver, f"snapshot.weights[{d}].w[{i}][{j}]") == -1.625

    move_mouse(driver, 5, 5)
    move_mouse(driver, x, y)
    wait_until(lambda: text(driver, "tooltip").endswith("= -1.6250"), what="the new value")


# --- 12. divergence ---------------------------------------------------------------------------


def test_a_divergence_is_reported_rolled_back_and_training_goes_on_at_a_lower_rate(driver, server):
    open_page(
        driver, server, "#problem=regression&dataset=plane&activations=relu,relu&learning_rate=10"
    )
    assert page_state(driver, "settings.learning_rate") == 10
    assert page_state(driver, "settings.dataset") == "plane"
    session, lock = session_of(driver, server)
    with lock:
        initial = session.network.get_weights()
    click(driver, "step")
    wait_until(lambda: visible(driver, "message"), what="the message")
    settle(driver)
    message = text(driver, "message")
    assert re.search(r"training diverged at epoch 1, batch \d+: .* is not finite", message)
    assert "Lower the learning rate or scale the inputs." in message
    assert "back to its weights after epoch 0" in message
    assert text(driver, "epoch") == "0"
    with lock:
        assert session.epoch == 0 and session.message == message
        for before, after in zip(initial, session.network.get_weights(), strict=True):
            np.testing.assert_array_equal(after, before)  # the epoch's start, not mid-way
    assert not page_state(driver, "playing")
    # the advice works: a lower rate trains from those weights
    Select(driver.find_element(By.ID, "learning_rate")).select_by_visible_text("0.001")
    settle(driver)
    click(driver, "step")
    wait_until(lambda: text(driver, "epoch") == "1", what="epoch 1")
    settle(driver)
    assert not visible(driver, "message")
    with lock:
        assert session.epoch == 1 and session.message is None


def test_a_forgotten_session_is_set_up_again_never_answered_from_another(driver, server):
    open_page(driver, server, "#dataset=xor&layers=3&activations=relu")
    click(driver, "step")
    wait_until(lambda: text(driver, "epoch") == "1", what="epoch 1")
    settle(driver)
    sid = js(driver, "return window.playground.session")
    with server.sessions._lock:  # as a restart, or newer pages pushing it out, would
        del server.sessions._sessions[sid]
    node = driver.find_element(By.CSS_SELECTOR, '.node[data-layer="0"][data-neuron="0"]')
    node.click()
    wait_until(lambda: "set up again, with new weights" in text(driver, "message"), what="it")
    settle(driver)
    session, lock = server.sessions._sessions[sid]  # made again, with the page's settings
    with lock:
        assert session.settings.dataset == "xor" and session.settings.layers == [3]
        assert session.settings.activations == ["relu"]
        assert js(driver, "return window.playground.state.setup.snapshot.build") == session.build
    assert text(driver, "epoch") == "0"


def test_apply_is_refused_when_training_happened_after_the_step_was_shown(driver, server):
    open_page(driver, server)
    click_sample(driver, 0)
    click(driver, "onestep")
    wait_until(lambda: visible(driver, "stage"), what="the stages")
    settle(driver)
    session, lock = session_of(driver, server)
    with lock:  # training behind the page's back, as another frame would
        session.train(1)
        before = session.network.get_weights()
    js(driver, "applyStep()")
    settle(driver)
    assert "changed since this step was shown" in text(driver, "message")
    with lock:
        for a, b in zip(before, session.network.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_play_again_after_a_stop_goes_on(driver, server):
    open_page(driver, server, "#stop_epochs=3")
    click(driver, "play")
    wait_until(lambda: "stopped after 3 epochs" in text(driver, "message"), what="the stop")
    settle(driver)
    assert text(driver, "epoch") == "3" and not page_state(driver, "playing")
    click(driver, "play")
    wait_until(lambda: int(text(driver, "epoch")) >= 6, what="epochs after the stop")
    click(driver, "play")
    settle(driver)


def test_multi_class_output_neurons_show_their_probabilities(driver, server):
    open_page(driver, server, "#dataset=spiral&classes=3")
    settle(driver)
    session, lock = session_of(driver, server)
    with lock:
        probabilities = session.network.predict(session.grid)
    for k in range(3):
        pixels = js(
            driver,
            "const c = document.querySelectorAll('.node[data-layer=\"2\"] canvas')[arguments[0]];"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            "return [c.width, Array.from(d)];",
            k,
        )
        assert pixels[0] == session.settings.heatmap
        blue = np.array(pixels[1]).reshape(-1, 4)[:, 2].astype(float)
        # a more probable class paints bluer: the pixels follow the probabilities
        assert np.corrcoef(blue, probabilities[:, k])[0, 1] > 0.9


# --- 13. safety -----------------------------------------------------------------------------


def test_a_request_for_another_host_is_refused(server):
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": "evil.example"})
        response = conn.getresponse()
        assert response.status == 403 and b"evil.example" in response.read()
    finally:
        conn.close()


def test_a_shared_link_on_another_site_opens_the_page_with_its_settings(driver, server):
    target = server.url + "#dataset=xor&layers=3&activations=relu"
    html = f'<!doctype html><a id="go" href="{target}">a shared playground</a>'.encode()

    class Linking(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Linking)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        driver.get(f"http://localhost:{other.server_address[1]}/")  # another site
        driver.find_element(By.ID, "go").click()
        wait_ready(driver)
        settle(driver)
        assert page_state(driver, "settings.dataset") == "xor"
        assert page_state(driver, "settings.layers") == [3]
        assert not visible(driver, "message")
    finally:
        other.shutdown()
        other.server_close()
        thread.join(5)


def test_a_lost_session_with_an_uploaded_file_falls_back_and_says_so(driver, server, tmp_path):
    open_page(driver, server)
    path = tmp_path / "mine.csv"
    path.write_text(
        "a,b,label\n" + "".join(f"{i % 7},{i % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40))
    )
    driver.find_element(By.ID, "upload").send_keys(str(path))
    wait_until(lambda: page_state(driver, "settings.dataset") == "upload", what="the upload")
    settle(driver)
    sid = js(driver, "return window.playground.session")
    with server.sessions._lock:
        del server.sessions._sessions[sid]
    click(driver, "step")
    wait_until(lambda: "upload it again" in text(driver, "message"), what="the message")
    settle(driver)
    assert page_state(driver, "settings.dataset") == "circle"
    session, lock = server.sessions._sessions[sid]
    with lock:
        assert session.settings.dataset == "circle"
        assert js(driver, "return window.playground.state.setup.snapshot.build") == session.build
