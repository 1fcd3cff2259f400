"""The playground's web server: Python's standard library only (``http.server``).

Why the standard library: the page is one learner's, on their own machine, talking to one
process; a threaded ``http.server`` answers a frame's request in about a millisecond,
which leaves the 50 ms of a 20-frames-per-second budget to training and drawing. A web
framework would add a dependency to every install (lucidnet's core is NumPy and tqdm) and
nothing this page needs.

Routes. The ``session`` query parameter names the page (a random id made at each page
load); ``build``, sent by the page with every request but a set-up, names the set-up it
shows (``Session.build``)::

    GET  /                          the page
    GET  /static/<file>             its script and style sheet (only files of static/)
    POST /api/settings              {settings}          -> set-up: points, heatmaps, snapshot
    POST /api/upload                {name, text}        -> set-up with the CSV's data
    POST /api/reset                 {}                  -> set-up: new weights, epoch 0
    POST /api/train                 {"epochs": k}       -> snapshot (perceptron: "samples")
    POST /api/neuron                {set, index, layer, neuron} -> that neuron's numbers
    POST /api/onestep               {set, index}        -> the stages of one step
    POST /api/apply                 {set, index}        -> snapshot after that step
    POST /api/weight                {layer, source, neuron, value} -> snapshot
    GET  /api/export?format=lucid   the network as a .lucid file (lucidnet.load reads it)
    GET  /api/export?format=python  a script that rebuilds and retrains it

Only a set-up (``/api/settings``, ``/api/upload``) creates a session. Any other request
for a session the server does not have, or for a set-up (``build``) it no longer has,
gets 409, and the page sets itself up again: it is never answered from another network
than the one it draws. A snapshot carries the curve points after ``history_length``,
the number the page has.

Safety: the server binds 127.0.0.1 unless told otherwise. A request whose ``Host`` is not
the server's own address (``127.0.0.1:PORT``, ``localhost:PORT`` or the bound host) is
refused with 403, and so is one with another ``Origin``, or a request to the API that
the browser marks as coming from another site (``Sec-Fetch-Site``; the page itself opens
from a link anywhere): a web page elsewhere cannot reach the playground's API through DNS
rebinding, a cross-site form or an image. POST bodies must be
JSON (``Content-Type: application/json``) of at most ``MAX_BODY`` bytes. A malformed
request gets a 4xx status and a one-line ``{"error": ...}``; a failure inside the server
gets 500 and the same; the server keeps serving either way.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .data import MAX_UPLOAD_BYTES, read_upload
from .session import FRAME_BUDGET, Session
from .settings import Settings

__all__ = ["MAX_BODY", "PlaygroundServer", "make_server"]

STATIC = Path(__file__).parent / "static"
MAX_BODY = 2 * MAX_UPLOAD_BYTES + 64 * 1024  # an upload's CSV text, JSON-escaped, and more
MAX_SESSIONS = 8  # pages open at once; the oldest is forgotten beyond this
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


GONE = "this page's set-up is not on the server any more (restarted, or too many pages open)"
CHANGED = "this page shows another set-up than the server's (it changed meanwhile)"
SETUP_ROUTES = ("/api/settings", "/api/upload")  # the requests that may create a session


class RequestError(Exception):
    """A request the server will not serve: its status and a one-line reason."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class Sessions:
    """The pages' sessions by id, the most recently used last, at most ``MAX_SESSIONS``."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, tuple[Session, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, sid: str, create: bool = False) -> tuple[Session, threading.Lock]:
        """The session ``sid``; a new one only with ``create`` (a set-up). Any other
        request for an unknown session is refused with 409: the page's set-up is not the
        server's (the server restarted, or forgot the session for newer ones), and it
        must set up again rather than be answered from another network."""
        if not (0 < len(sid) <= 64 and sid.replace("-", "").isalnum()):
            raise RequestError(HTTPStatus.BAD_REQUEST, "session: 1 to 64 letters, digits or '-'")
        with self._lock:
            if sid not in self._sessions:
                if not create:
                    raise RequestError(HTTPStatus.CONFLICT, GONE)
                self._sessions[sid] = (Session(), threading.Lock())
                while len(self._sessions) > self.limit:
                    self._sessions.popitem(last=False)
            self._sessions.move_to_end(sid)
            return self._sessions[sid]


def _field(body: dict[str, Any], key: str, default: Any = ...) -> Any:
    value = body.get(key, default)
    if value is ...:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"missing {key!r}")
    return value


def _known(body: dict[str, Any]) -> int:
    """``history_length``: the curve points the page has (the answer sends the rest)."""
    known = body.get("history_length", 0)
    if isinstance(known, bool) or not isinstance(known, int) or known < 0:
        raise ValueError(f"'history_length' must be a whole number >= 0, got {known!r}")
    return known


def _frames(body: dict[str, Any]) -> tuple[int, int]:
    epochs, samples = body.get("epochs", 1), body.get("samples", 0)
    for key, value, hi in (("epochs", epochs, 100), ("samples", samples, 10_000)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
            raise ValueError(f"{key!r} must be a whole number from 0 to {hi}, got {value!r}")
    return epochs, samples


class Handler(BaseHTTPRequestHandler):
    """One request; ``server`` is the ``PlaygroundServer``."""

    protocol_version = "HTTP/1.1"  # keep-alive: a frame's request reuses the connection
    # Headers and body go out in two writes: without this, Nagle's algorithm holds the body
    # until the browser's delayed ACK of the headers, 40 ms or more per frame.
    disable_nagle_algorithm = True
    timeout = 120  # seconds: an idle connection is closed (the page opens a new one)
    server: PlaygroundServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # --- checks ---------------------------------------------------------------------------

    def _check_origin(self) -> None:
        host = self.headers.get("Host", "")
        if host not in self.server.hosts:
            raise RequestError(HTTPStatus.FORBIDDEN, f"Host {host!r} is not this server's")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self.server.hosts}:
            raise RequestError(HTTPStatus.FORBIDDEN, f"Origin {origin!r} is not this server's")
        # Browsers say where a request comes from: the page may be opened from anywhere (a
        # shared link), but only the page itself may use the API.
        site = self.headers.get("Sec-Fetch-Site")
        api = urlsplit(self.path).path.startswith("/api/")
        if api and site is not None and site not in ("same-origin", "none"):
            raise RequestError(HTTPStatus.FORBIDDEN, f"a {site} request is not served")

    def _body(self) -> dict[str, Any]:
        kind = self.headers.get("Content-Type", "").split(";")[0].strip()
        if kind != "application/json":
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "POST bodies must be application/json"
            )
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required") from None
        if length < 0 or length > MAX_BODY:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"request body of {length} bytes; at most {MAX_BODY}",
            )
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {err}") from None
        except RecursionError:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body is nested too deeply") from None
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body

    # --- answers --------------------------------------------------------------------------

    def _send(self, status: HTTPStatus, data: bytes, kind: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, value: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        data = json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")
        self._send(status, data, "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        """A one-line ``{"error": ...}``; the connection then closes, since a refused
        request's body may be left unread in it."""
        data = json.dumps({"error": message.splitlines()[0] if message else status.phrase})
        self._send(status, data.encode("utf-8"), "application/json", {"Connection": "close"})

    def _handle(self, route: Callable[[], None]) -> None:
        try:
            self._check_origin()
            route()
        except RequestError as err:
            self._error(err.status, str(err))
        except ValueError as err:  # a setting, an argument or an uploaded file refused
            self._error(HTTPStatus.BAD_REQUEST, str(err) or repr(err))
        except Exception as err:  # anything else: said in one line, and the server keeps serving
            self._error(
                HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(err).__name__}: {err}"
            )

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def do_HEAD(self) -> None:  # GET's headers, without the body (``_send``)
        self._handle(self._get)

    def do_PUT(self) -> None:
        self._handle(self._refuse)

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def _refuse(self) -> None:
        raise RequestError(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not served")

    # --- routes ----------------------------------------------------------------------------

    def _get(self) -> None:
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return self._static("index.html")
        if url.path.startswith("/static/"):
            return self._static(url.path.removeprefix("/static/"))
        if url.path == "/api/export":
            return self._export(parse_qs(url.query))
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")

    def _static(self, name: str) -> None:
        try:
            path = (STATIC / name).resolve()
            found = path.is_relative_to(STATIC.resolve()) and path.is_file()
        except (OSError, ValueError):  # a name too long, a NUL in it
            found = False
        if not found:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such file: /static/{name[:80]}")
        kind = TYPES.get(path.suffix, "application/octet-stream")
        self._send(HTTPStatus.OK, path.read_bytes(), kind + "; charset=utf-8")

    def _session(
        self, query: dict[str, list[str]], create: bool = False
    ) -> tuple[Session, threading.Lock]:
        sid = query.get("session", [""])[0]
        return self.server.sessions.get(sid, create)

    @staticmethod
    def _check_build(session: Session, query: dict[str, list[str]]) -> None:
        """A request made for a set-up (``build``) the session no longer has: 409."""
        build = query.get("build", [None])[0]
        if build is not None and build != session.build:
            raise RequestError(HTTPStatus.CONFLICT, CHANGED)

    def _export(self, query: dict[str, list[str]]) -> None:
        session, lock = self._session(query)
        kind = query.get("format", ["lucid"])[0]
        with lock:
            self._check_build(session, query)
            if kind == "lucid":
                data, mime, name = session.export_model(), "application/octet-stream", "lucid"
            elif kind == "python":
                data, mime, name = session.export_script().encode(), "text/x-python", "py"
            else:
                raise RequestError(HTTPStatus.BAD_REQUEST, "format must be 'lucid' or 'python'")
        disposition = f'attachment; filename="playground.{name}"'
        self._send(HTTPStatus.OK, data, mime, {"Content-Disposition": disposition})

    def _post(self) -> None:
        url = urlsplit(self.path)
        routes = {
            "/api/settings": self._settings,
            "/api/train": self._train,
            "/api/neuron": self._neuron,
            "/api/onestep": self._onestep,
            "/api/apply": self._apply,
            "/api/weight": self._weight,
            "/api/upload": self._upload,
            "/api/reset": self._reset,
        }
        if url.path not in routes:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such action: {url.path}")
        body = self._body()
        query = parse_qs(url.query)
        session, lock = self._session(query, create=url.path in SETUP_ROUTES)
        with lock:  # the answer is made under the session's lock and sent after it
            if url.path not in SETUP_ROUTES:
                self._check_build(session, query)
            answer = routes[url.path](session, body)
        self._json(answer)

    def _settings(self, session: Session, body: dict[str, Any]) -> Any:
        session.configure(Settings.from_dict(body, session.settings))
        return session.describe()

    def _reset(self, session: Session, body: dict[str, Any]) -> Any:
        session.configure(session.settings, restart=True)
        return session.describe()

    def _train(self, session: Session, body: dict[str, Any]) -> Any:
        epochs, samples = _frames(body)
        session.train(epochs, samples, budget=FRAME_BUDGET)
        return session.snapshot(_known(body))

    def _neuron(self, session: Session, body: dict[str, Any]) -> Any:
        which, index = _field(body, "set"), _field(body, "index")
        return session.neuron(which, index, _field(body, "layer"), _field(body, "neuron"))

    def _onestep(self, session: Session, body: dict[str, Any]) -> Any:
        return {"stages": session.one_step(_field(body, "set"), _field(body, "index"))}

    def _apply(self, session: Session, body: dict[str, Any]) -> Any:
        session.apply_step(_field(body, "set"), _field(body, "index"))
        return session.snapshot(_known(body))

    def _weight(self, session: Session, body: dict[str, Any]) -> Any:
        session.set_weight(
            _field(body, "layer"), body.get("source"), _field(body, "neuron"), _field(body, "value")
        )
        return session.snapshot(_known(body))

    def _upload(self, session: Session, body: dict[str, Any]) -> Any:
        name, text = _field(body, "name"), _field(body, "text")
        if not isinstance(name, str) or not isinstance(text, str):
            raise ValueError("upload: 'name' and 'text' must be strings")
        given = body.get("settings", {})
        if not isinstance(given, dict):
            raise ValueError("upload: 'settings' must be a JSON object")
        settings = Settings.from_dict({**given, "dataset": "upload"}, session.settings)
        file_name = Path(name).name or "upload.csv"
        session.configure(settings, upload=(read_upload(file_name, text), file_name))
        return session.describe()


class PlaygroundServer(ThreadingHTTPServer):
    """The HTTP server with the pages' sessions and the addresses it answers to."""

    daemon_threads = True

    def __init__(
        self, host: str, port: int, verbose: bool = False, max_sessions: int = MAX_SESSIONS
    ) -> None:
        if ":" in host:  # an IPv6 address, such as ::1
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.verbose = verbose
        self.sessions = Sessions(max_sessions)
        bound = self.server_address[1]
        names = {"127.0.0.1", "localhost", "[::1]", host if ":" not in host else f"[{host}]"}
        if host in ("0.0.0.0", "", "::"):  # every interface: the machine's names too
            name = socket.gethostname()
            try:
                addresses = socket.gethostbyname_ex(name)[2]
            except OSError:
                addresses = []
            names.update([name, *addresses])
        self.hosts = {f"{name}:{bound}" for name in names}
        if bound == 80:  # the default port: browsers leave it out of Host
            self.hosts |= names

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def make_server(
    host: str = "127.0.0.1", port: int = 8765, verbose: bool = False, max_sessions: int = 8
) -> PlaygroundServer:
    """A playground server bound to ``host:port`` (port 0: any free port) that keeps the
    ``max_sessions`` most recently used pages; call ``serve_forever()`` on it
    (``shutdown()`` from another thread stops it)."""
    return PlaygroundServer(host, port, verbose, max_sessions)
