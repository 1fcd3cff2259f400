"""The lucidnet playground: a web page where a learner builds a network, watches it learn,
and opens any neuron to see its numbers.

``lucidnet playground`` (or ``lucidnet.playground.serve()``) starts a local server on
127.0.0.1 and opens the page. The training runs here, in lucidnet (the same layers,
optimizers and ``Trainer`` as the library); the page draws what the server sends.

Modules: ``settings`` (the page's controls, checked), ``data`` (the 2-D data sets, the
input features, uploaded CSV files), ``network`` (the layers, written once for the page
and the exported script), ``session`` (one page's data, network and training, and what it
draws), ``export`` (the Python script), ``server`` (the HTTP server) and ``static/`` (the
page: HTML, one script, one style sheet; no build step, nothing fetched from elsewhere).
"""

from __future__ import annotations

import sys
import threading
import webbrowser

from .server import PlaygroundServer, make_server
from .session import Session
from .settings import Settings

__all__ = ["PlaygroundServer", "Session", "Settings", "make_server", "serve"]


def serve(
    host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True, verbose: bool = False
) -> None:
    """Serve the playground until Ctrl-C; print its address and open it in a browser."""
    server = make_server(host, port, verbose)
    print(f"lucidnet playground: {server.url}  (Ctrl-C to stop)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        names = ", ".join(sorted(server.hosts))
        print(
            f"note: bound to {host}: other machines may connect; the page answers requests "
            f"addressed to {names} (others get 403, against DNS rebinding)",
            file=sys.stderr,
        )
    if open_browser:
        threading.Timer(0.3, webbrowser.open, (server.url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
