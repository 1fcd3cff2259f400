"""playground.server: the HTTP server's checks, routes and errors; and `lucidnet playground`."""

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import lucidnet as ln
from headless import serving
from lucidnet.playground import server as pserver
from lucidnet.playground.server import MAX_BODY

SRC = Path(ln.__file__).resolve().parents[1]  # the lucidnet under test, for subprocesses


# The pages the tests below use without setting them up first (only a set-up creates a
# session; a request for another is 409, tested below).
PAGES = ("healthy", "h", "o", "cs", "l", "j", "fast", "fr", "args", "py", "x", "m", "k")


@pytest.fixture(scope="module")
def srv():
    with serving(max_sessions=1000) as server:
        client = Client(server.server_address[1])
        for page in PAGES:
            assert client.post(f"/api/settings?session={page}", {}).status == 200
        yield server


class Reply:
    def __init__(self, response):
        self.status = response.status
        self.headers = response
        self.body = response.read()

    @property
    def type(self):
        return self.headers.getheader("Content-Type", "")

    def json(self):
        assert self.type == "application/json", self.type
        return json.loads(self.body)


class Client:
    """Requests to the server: a new connection each (``keep_alive``: one for all, as a
    browser's page keeps it)."""

    def __init__(self, port, keep_alive=False):
        self.port = port
        self.connection = self.connect() if keep_alive else None

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def send(self, method, path, body=None, headers=None):
        c = self.connection or self.connect()
        try:
            c.request(method, path, body=body, headers=headers or {})
            return Reply(c.getresponse())
        finally:
            if c is not self.connection:
                c.close()

    def post(self, path, value, headers=None):
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        return self.send(
            "POST", path, body, {"Content-Type": "application/json", **(headers or {})}
        )

    def close(self):
        if self.connection is not None:
            self.connection.close()


@pytest.fixture
def conn(srv):
    return Client(srv.server_address[1])


@pytest.fixture
def keep_alive(srv):
    client = Client(srv.server_address[1], keep_alive=True)
    yield client
    client.close()


def assert_serves(client, sid="healthy"):
    """A normal request after an error: the server still works."""
    reply = client.post(f"/api/train?session={sid}", {"epochs": 0})
    assert reply.status == 200, reply.body
    assert "epoch" in reply.json()


def error(reply, status):
    assert reply.status == status, (reply.status, reply.body)
    value = reply.json()
    assert set(value) == {"error"}
    return value["error"]


# --- the page and static files ----------------------------------------------------------------


def test_the_page_is_served_when_it_exists(conn):
    reply = conn.send("GET", "/")
    if (pserver.STATIC / "index.html").is_file():
        assert reply.status == 200 and reply.type.startswith("text/html")
        assert reply.body == (pserver.STATIC / "index.html").read_bytes()
    else:
        assert "no such file: /static/index.html" in error(reply, 404)
    assert reply.headers.getheader("X-Content-Type-Options") == "nosniff"
    assert_serves(conn)


def test_a_missing_static_file_is_404(conn):
    assert error(conn.send("GET", "/static/nope.js"), 404) == "no such file: /static/nope.js"
    assert_serves(conn)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/../../playground/server.py",
        "/static/..%2fserver.py",
        "/static/%2e%2e/server.py",
        "/static/..\\server.py",
        "/static//etc/passwd",
        "/static/../../../../../../../etc/passwd",
        "/static/" + str(Path(pserver.__file__).resolve()),
        "/static/../__init__.py",
    ],
)
def test_paths_out_of_static_are_404_and_leak_nothing(conn, path):
    reply = conn.send("GET", path)
    error(reply, 404)
    assert b"import" not in reply.body and b"root:" not in reply.body
    assert_serves(conn)


# --- Host and Origin --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1", "127.0.0.2:{port}"]
)
def test_a_wrong_host_is_403(srv, conn, host):
    host = host.format(port=srv.server_address[1])
    reply = conn.send("GET", "/api/export?session=h&format=python", headers={"Host": host})
    assert error(reply, 403) == f"Host {host!r} is not this server's"
    assert_serves(conn)


def test_localhost_host_is_accepted(srv, conn):
    host = f"localhost:{srv.server_address[1]}"
    reply = conn.send("GET", "/api/export?session=h&format=python", headers={"Host": host})
    assert reply.status == 200


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "https://127.0.0.1:{port}", "http://127.0.0.1:1"]
)
def test_a_wrong_origin_is_403(srv, conn, origin):
    origin = origin.format(port=srv.server_address[1])
    reply = conn.post("/api/train?session=o", {"epochs": 1}, {"Origin": origin})
    assert error(reply, 403) == f"Origin {origin!r} is not this server's"
    assert srv.sessions.get("o")[0].epoch == 0  # nothing ran
    assert_serves(conn)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_servers_own_origin_is_200(srv, conn, name):
    origin = f"http://{name}:{srv.server_address[1]}"
    sid = "own-" + name.replace(".", "-")
    conn.post(f"/api/settings?session={sid}", {})
    reply = conn.post(f"/api/train?session={sid}", {"epochs": 1}, {"Origin": origin})
    assert reply.status == 200 and reply.json()["epoch"] == 1


# --- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_post_without_json_is_415(srv, conn, kind):
    headers = {} if kind is None else {"Content-Type": kind}
    reply = conn.send("POST", "/api/settings?session=t", b'{"dataset": "xor"}', headers)
    assert error(reply, 415) == "POST bodies must be application/json"
    assert "t" not in srv.sessions._sessions  # nothing was set up
    assert_serves(conn)


def test_json_with_a_charset_is_accepted(conn):
    reply = conn.post(
        "/api/train?session=cs", {"epochs": 1}, {"Content-Type": "application/json; charset=utf-8"}
    )
    assert reply.status == 200


def raw_post_headers(client, path, headers):
    """Send a POST's request line and headers only; return the reply."""
    c = client.connect()
    try:
        c.putrequest("POST", path)
        for key, value in headers.items():
            c.putheader(key, value)
        c.endheaders()  # no body is sent: the server must answer without waiting for one
        return Reply(c.getresponse())
    finally:
        c.close()


def test_a_body_over_the_limit_is_413_and_the_server_goes_on(conn):
    headers = {"Content-Type": "application/json", "Content-Length": str(MAX_BODY + 1)}
    reply = raw_post_headers(conn, "/api/upload?session=big", headers)
    assert error(reply, 413) == f"request body of {MAX_BODY + 1} bytes; at most {MAX_BODY}"
    assert_serves(conn)


def test_a_missing_content_length_is_411(conn):
    reply = raw_post_headers(conn, "/api/train?session=l", {"Content-Type": "application/json"})
    assert error(reply, 411) == "Content-Length is required"
    assert_serves(conn)


@pytest.mark.parametrize("body", [b"{not json", b'{"epochs": 1', b"\xff\xfe{}"])
def test_malformed_json_is_400(conn, body):
    assert error(conn.post("/api/train?session=j", body), 400).startswith("the body is not JSON")
    assert_serves(conn)


@pytest.mark.parametrize("value", [[1, 2], "epochs", 3, None])
def test_a_body_that_is_not_an_object_is_400(conn, value):
    assert error(conn.post("/api/train?session=j", value), 400) == "the body must be a JSON object"
    assert_serves(conn)


# --- routes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("GET", "/api/train"), ("GET", "/static")]
)
def test_unknown_pages_are_404(conn, method, path):
    assert error(conn.send(method, path), 404) == f"no such page: {path}"
    assert_serves(conn)


def test_unknown_actions_are_404(srv, conn):
    assert error(conn.post("/api/nope?session=x", {}), 404) == "no such action: /api/nope"
    assert_serves(conn)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(srv, conn, method):
    assert error(conn.send(method, "/api/settings?session=m"), 405) == f"{method} is not served"
    assert_serves(conn)


@pytest.mark.parametrize(
    "query", ["", "?session=", "?session=a/b", "?session=a%20b", "?session=" + "a" * 65]
)
def test_a_bad_session_id_is_400(conn, query):
    assert error(conn.post("/api/train" + query, {}), 400).startswith("session: 1 to 64 letters")
    assert error(conn.send("GET", "/api/export" + query), 400).startswith("session: 1 to 64")
    assert_serves(conn)


# --- errors leave a keep-alive connection usable ----------------------------------------------


def _wrong_host(srv):
    return {"Host": "evil.example", "Content-Type": "application/json"}


def _wrong_origin(srv):
    return {"Origin": "http://evil.example", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/api/settings?session=k", lambda srv: {"Content-Type": "text/plain"}, 415),
        ("POST", "/api/nope?session=k", lambda srv: {"Content-Type": "application/json"}, 404),
        ("PUT", "/api/settings?session=k", lambda srv: {"Content-Type": "application/json"}, 405),
        ("POST", "/api/settings?session=k", _wrong_host, 403),
        ("POST", "/api/settings?session=k", _wrong_origin, 403),
    ],
    ids=["415", "404", "405", "403-host", "403-origin"],
)
def test_a_refused_request_with_a_body_leaves_the_connection_usable(
    srv, keep_alive, method, path, headers, status
):
    # one connection for both requests (HTTP/1.1 keep-alive), as a browser's page has
    reply = keep_alive.send(method, path, b'{"dataset": "xor"}', headers(srv))
    error(reply, status)
    assert_serves(keep_alive)


def test_keep_alive_requests_are_answered_quickly(keep_alive):
    # a frame's request reuses the connection; the module promises about a millisecond a
    # request, within a 50 ms frame (a cheap request here: no training)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        assert keep_alive.post("/api/train?session=fast", {"epochs": 0}).status == 200
        times.append(time.perf_counter() - start)
    assert sorted(times)[3] < 0.02, times


# --- the API ----------------------------------------------------------------------------------


def test_settings_returns_the_set_up(conn):
    reply = conn.post("/api/settings?session=s1", {"dataset": "gauss", "classes": 3, "samples": 60})
    assert reply.status == 200
    d = reply.json()
    assert d["settings"]["dataset"] == "gauss" and d["classes"] == ["0", "1", "2"]
    assert len(d["train"]["points"]) + len(d["test"]["points"]) == 60
    assert d["sizes"] == [2, 4, 2, 3] and d["snapshot"]["epoch"] == 0


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"learning_rate": 100}, r"^setting 'learning_rate' must be between"),
        ({"layers": [4] * 7}, r"^setting 'layers' must list 0 to 6"),
        ({"colour": 1}, r"^unknown setting 'colour'"),
        ({"problem": "regression", "dataset": "xor"}, r"^dataset 'xor' is for classification"),
        ({"dataset": "upload"}, r"^dataset 'upload': no CSV file has been uploaded"),
    ],
)
def test_a_settings_error_is_400_naming_the_setting(srv, conn, given, message):
    sid = "se-" + "-".join(given).replace("_", "-")  # a fresh session per case
    conn.post(f"/api/settings?session={sid}", {"dataset": "xor"})
    conn.post(f"/api/train?session={sid}", {"epochs": 2})
    reply = conn.post(f"/api/settings?session={sid}", given)
    assert re.search(message, error(reply, 400))
    session = srv.sessions.get(sid)[0]
    assert session.settings.dataset == "xor" and session.epoch == 2  # unchanged
    assert_serves(conn)


def test_train_returns_only_the_history_the_page_lacks(conn):
    sid = "?session=hist"
    conn.post("/api/settings" + sid, {})
    first = conn.post("/api/train" + sid, {"epochs": 2, "history_length": 1}).json()
    assert first["epoch"] == 2 and first["history_length"] == 3
    assert [h["epoch"] for h in first["history"]] == [1, 2]
    second = conn.post("/api/train" + sid, {"epochs": 1, "history_length": 3}).json()
    assert [h["epoch"] for h in second["history"]] == [3]
    third = conn.post("/api/train" + sid, {"epochs": 0, "history_length": 4}).json()
    assert third["history"] == [] and third["history_length"] == 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"epochs": 101}, r"'epochs' must be a whole number from 0 to 100, got 101"),
        ({"epochs": -1}, r"'epochs' must be a whole number from 0 to 100, got -1"),
        ({"epochs": 1.5}, r"'epochs' must be a whole number from 0 to 100, got 1.5"),
        ({"epochs": True}, r"'epochs' must be a whole number from 0 to 100, got True"),
        ({"samples": 10_001}, r"'samples' must be a whole number from 0 to 10000"),
    ],
)
def test_bad_train_frames_are_400(conn, body, message):
    assert re.search(message, error(conn.post("/api/train?session=fr", body), 400))
    assert_serves(conn)


def test_neuron_onestep_apply_and_weight(srv, conn):
    sid = "?session=edit"
    conn.post("/api/settings" + sid, {"dataset": "xor", "layers": [3]})
    n = conn.post("/api/neuron" + sid, {"set": "test", "index": 2, "layer": 0, "neuron": 1}).json()
    session = srv.sessions.get("edit")[0]
    x = session.x_test[2].astype(np.float64)
    dense = session.dense_layers[0]
    assert n["z"] == pytest.approx(x @ dense.weights[:, 1] + dense.bias[1], rel=1e-4, abs=1e-6)
    stages = conn.post("/api/onestep" + sid, {"set": "test", "index": 2}).json()["stages"]
    assert stages[0]["phase"] == "forward" and stages[-1]["phase"] == "update"
    trace = session.explain("test", 2)
    snap = conn.post("/api/apply" + sid, {"set": "test", "index": 2}).json()
    np.testing.assert_allclose(snap["weights"][0]["w"], trace.layers[0].new_weights, rtol=1e-5)
    body = {"layer": 1, "source": 2, "neuron": 0, "value": -0.5}
    snap = conn.post("/api/weight" + sid, body).json()
    assert snap["weights"][1]["w"][2][0] == -0.5 and session.dense_layers[1].weights[2, 0] == -0.5
    snap = conn.post("/api/weight" + sid, {"layer": 0, "neuron": 2, "value": 0.25}).json()
    assert snap["weights"][0]["b"][2] == 0.25  # no source: the bias


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        ("neuron", {"set": "test", "index": 2, "layer": 0}, r"^missing 'neuron'"),
        (
            "neuron",
            {"set": "test", "index": 999, "layer": 0, "neuron": 0},
            r"test set has samples 0 to",
        ),
        ("onestep", {"set": "dev", "index": 0}, r"set must be 'train' or 'test', got 'dev'"),
        (
            "weight",
            {"layer": 0, "neuron": 0, "value": float("nan")},
            r"a weight must be a finite number",
        ),
        ("weight", {"layer": 5, "neuron": 0, "value": 1}, r"layer must be 0 to 2"),
        ("upload", {"name": "a.csv"}, r"^missing 'text'"),
        ("upload", {"name": 3, "text": "1,2,0"}, r"'name' and 'text' must be strings"),
    ],
)
def test_bad_arguments_are_400(conn, route, body, message):
    assert re.search(message, error(conn.post(f"/api/{route}?session=args", body), 400))
    assert_serves(conn)


CSV = "u,v,kind\n" + "".join(
    f"{a:.2f},{b:.2f},{'near' if a * a + b * b < 9 else 'far'}\n"
    for a, b in np.random.default_rng(1).uniform(-5, 5, size=(80, 2))
)


def test_upload_then_export_a_model_lucidnet_loads(srv, conn, tmp_path):
    sid = "?session=up"
    d = conn.post("/api/upload" + sid, {"name": "C:\\data\\rings.csv", "text": CSV}).json()
    assert d["classes"] == ["far", "near"] and d["settings"]["dataset"] == "upload"
    assert len(d["train"]["points"]) + len(d["test"]["points"]) == 80
    conn.post("/api/train" + sid, {"epochs": 2})
    reply = conn.send("GET", "/api/export" + sid + "&format=lucid")
    assert reply.status == 200 and reply.type == "application/octet-stream"
    assert (
        reply.headers.getheader("Content-Disposition") == 'attachment; filename="playground.lucid"'
    )
    path = tmp_path / "p.lucid"
    path.write_bytes(reply.body)
    model = ln.load(path)
    session = srv.sessions.get("up")[0]
    np.testing.assert_array_equal(
        model.predict(session.x_test), session.network.predict(session.x_test)
    )


def test_a_bad_upload_is_400_naming_the_line_and_column(conn):
    text = "u,v,kind\n1,2,a\n3,x,b\n"
    reply = conn.post("/api/upload?session=badup", {"name": "/home/me/pts.csv", "text": text})
    assert error(reply, 400) == "pts.csv, line 3, column 2 ('v'): 'x' is not a number"
    assert_serves(conn)


def test_export_python_returns_a_script(conn):
    sid = "?session=py"
    conn.post("/api/settings" + sid, {"dataset": "xor", "layers": [3, 2]})
    conn.post("/api/train" + sid, {"epochs": 2})
    reply = conn.send("GET", "/api/export" + sid + "&format=python")
    assert reply.status == 200 and reply.type == "text/x-python"
    source = reply.body.decode()
    compile(source, "playground.py", "exec")
    assert "import lucidnet as ln" in source
    assert "generate('xor', 500," in source and "epochs=2" in source


def test_export_of_an_unknown_format_is_400(conn):
    reply = conn.send("GET", "/api/export?session=py&format=onnx")
    assert error(reply, 400) == "format must be 'lucid' or 'python'"
    assert_serves(conn)


def test_two_sessions_are_independent(srv):
    def train(sid, given, epochs, out):
        c = Client(srv.server_address[1])
        c.post(f"/api/settings?session={sid}", given)
        for _ in range(epochs):
            out.append(c.post(f"/api/train?session={sid}", {"epochs": 1}).json()["epoch"])

    a, b = [], []
    threads = [
        threading.Thread(target=train, args=("ind-a", {"dataset": "xor"}, 6, a)),
        threading.Thread(target=train, args=("ind-b", {"dataset": "spiral", "classes": 3}, 3, b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert a == [1, 2, 3, 4, 5, 6] and b == [1, 2, 3]
    sa, sb = srv.sessions.get("ind-a")[0], srv.sessions.get("ind-b")[0]
    assert (sa.settings.dataset, sa.epoch) == ("xor", 6)
    assert (sb.settings.dataset, sb.epoch, sb.n_outputs) == ("spiral", 3, 3)


# --- lucidnet playground ----------------------------------------------------------------------


def lucidnet_command(*args):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    return [sys.executable, "-m", "lucidnet", "playground", *args], env


def test_cli_help_names_the_options():
    cmd, env = lucidnet_command("--help")
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--no-browser", "--host"):
        assert option in result.stdout


def test_cli_serves_and_prints_its_address():
    cmd, env = lucidnet_command("--port", "0", "--no-browser")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(20, proc.kill)  # a hung start fails the test instead of hanging
    watchdog.start()
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, (line, proc.stderr.read() if proc.poll() is not None else "")
        port = int(found.group(1))
        assert port > 0
        Client(port).post("/api/settings?session=cli", {})
        reply = Client(port).post("/api/train?session=cli", {"epochs": 1})
        assert reply.status == 200 and reply.json()["epoch"] == 1
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


# --- a page and the server's set-up -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/train?session=never", {"epochs": 1}),
        (
            "POST",
            "/api/neuron?session=never",
            {"set": "train", "index": 0, "layer": 0, "neuron": 0},
        ),
        ("POST", "/api/reset?session=never", {}),
        ("GET", "/api/export?session=never&format=python", None),
    ],
)
def test_a_session_the_server_does_not_have_is_409_and_not_made(srv, conn, method, path, body):
    if method == "GET":
        reply = conn.send(method, path)
    else:
        reply = conn.post(path, body)
    assert "not on the server any more" in error(reply, 409)
    assert "never" not in srv.sessions._sessions


def test_a_request_for_a_set_up_the_session_no_longer_has_is_409(srv, conn):
    d = conn.post("/api/settings?session=builds", {"dataset": "xor"}).json()
    old = d["snapshot"]["build"]
    assert conn.post(f"/api/train?session=builds&build={old}", {"epochs": 1}).status == 200
    new = conn.post("/api/reset?session=builds", {}).json()["snapshot"]["build"]
    assert new != old
    body = {"set": "train", "index": 0, "layer": 0, "neuron": 0}
    assert "another set-up" in error(
        conn.post(f"/api/neuron?session=builds&build={old}", body), 409
    )
    reply = conn.send("GET", f"/api/export?session=builds&build={old}&format=lucid")
    assert "another set-up" in error(reply, 409)
    assert conn.post(f"/api/neuron?session=builds&build={new}", body).status == 200
    assert srv.sessions.get("builds")[0].epoch == 0  # the refused requests changed nothing


def test_the_oldest_session_is_forgotten_beyond_the_limit():
    with serving(max_sessions=2) as server:
        client = Client(server.server_address[1])
        for page in ("p1", "p2", "p3"):
            assert client.post(f"/api/settings?session={page}", {}).status == 200
        assert list(server.sessions._sessions) == ["p2", "p3"]
        assert error(client.post("/api/train?session=p1", {}), 409)


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_request_the_browser_marks_as_from_another_site_is_403(srv, conn, site):
    reply = conn.send(
        "GET", "/api/export?session=x&format=python", headers={"Sec-Fetch-Site": site}
    )
    assert error(reply, 403) == f"a {site} request is not served"
    reply = conn.post("/api/train?session=x", {"epochs": 1}, {"Sec-Fetch-Site": site})
    assert error(reply, 403) == f"a {site} request is not served"


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_a_request_from_the_page_or_typed_is_served(conn, site):
    reply = conn.send("GET", "/", headers={"Sec-Fetch-Site": site})
    assert reply.status == 200


def test_head_gives_the_headers_without_the_body(conn):
    reply = conn.send("HEAD", "/")
    assert reply.status == 200 and reply.body == b""
    assert int(reply.headers.getheader("Content-Length")) == len(
        (pserver.STATIC / "index.html").read_bytes()
    )


def test_options_is_405(conn):
    assert error(conn.send("OPTIONS", "/api/train?session=x"), 405) == "OPTIONS is not served"


def test_a_body_nested_too_deeply_is_400(conn):
    reply = conn.post("/api/train?session=x", b"[" * 200_000)
    assert error(reply, 400) == "the body is nested too deeply"
    assert_serves(conn)


def test_a_static_name_too_long_is_404_and_says_no_path(conn):
    message = error(conn.send("GET", "/static/" + "a" * 300), 404)
    assert message.startswith("no such file: /static/aaa") and "/work" not in message
    assert_serves(conn)


@pytest.mark.parametrize("known", [-1, True, 1.5, "3"])
def test_a_bad_history_length_is_400(conn, known):
    reply = conn.post("/api/train?session=x", {"epochs": 0, "history_length": known})
    assert "'history_length' must be a whole number >= 0" in error(reply, 400)


def test_single_sample_steps_are_refused_in_network_mode(conn):
    reply = conn.post("/api/train?session=x", {"epochs": 0, "samples": 3})
    assert error(reply, 400) == "'samples' (single-sample steps) are for perceptron mode"


def test_an_upload_without_a_name_is_named_upload_csv(srv, conn):
    conn.post("/api/upload?session=noname", {"name": "", "text": CSV})
    assert srv.sessions.get("noname")[0].upload_name == "upload.csv"
    script = conn.send("GET", "/api/export?session=noname&format=python").body.decode()
    assert "read_upload('upload.csv'" in script


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_the_page_itself_opens_from_a_link_on_another_site(conn, site):
    reply = conn.send("GET", "/", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"})
    assert reply.status == 200 and reply.type.startswith("text/html")
