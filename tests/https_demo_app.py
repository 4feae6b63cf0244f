"""A minimal Flask + Socket.IO app served by security.https_server, for tests/test_https_server.py.

Usage: python tests/https_demo_app.py <eventlet|gevent> <port> <certdir or -> [header_timeout]
       [max_per_address]
"""

from __future__ import annotations

import sys

MODE = sys.argv[1]
# The async framework must patch the standard library before anything imports it.
if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
else:
    import warnings

    warnings.filterwarnings("ignore", message="Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

from pathlib import Path  # noqa: E402

from flask import Flask, jsonify  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from security.certificates import TlsFiles, server_context  # noqa: E402
from security.https_server import serve  # noqa: E402

MAX_CONNECTIONS = 200  # plenty for the tests' idle sockets plus their real requests


def build_app() -> Flask:
    """A /health route and an 'echo' event that acknowledges with what it got."""
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode=MODE)
    app.add_url_rule("/health", "health", lambda: jsonify(status="ok"))
    socketio.on_event("echo", lambda data: {"echo": data})
    return app


def main() -> None:
    """Serve on 127.0.0.1:<port>, over TLS when a certificate folder is given."""
    port, certdir = int(sys.argv[2]), sys.argv[3]
    header_timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    max_per_address = int(sys.argv[5]) if len(sys.argv) > 5 else None
    context = None
    if certdir != "-":
        files = TlsFiles(Path(certdir, "server.crt"), Path(certdir, "server.key"),
                         Path(certdir, "ca.crt"), renewed=False)
        context = server_context(files)
    serve(build_app(), "127.0.0.1", port, async_mode=MODE, ssl_context=context,
          header_timeout=header_timeout, max_connections=MAX_CONNECTIONS,
          max_per_address=max_per_address)


if __name__ == "__main__":
    main()
