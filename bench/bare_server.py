"""The baseline: a bare Flask-SocketIO broadcast server with no auth and no limits.

``python bench/bare_server.py PORT [eventlet|gevent]`` serves on 127.0.0.1:PORT in the
given async mode (default: PICHAT_ASYNC_MODE, else eventlet), the same way PiChat's
app.py does: monkey-patched first, then socketio.run with the same connection ceiling.
Events: ``join`` {room} -> {ok}; ``send_message`` {room, text} -> {ok, id}, which
broadcasts ``message`` {id, room, user, text, ts} to the room, as PiChat's payload.
"""

from __future__ import annotations

import itertools
import os
import sys
from typing import Any

MAX_CONNECTIONS = int(os.environ.get("MAX_CONNECTIONS", "10000"))


def patch(mode: str) -> None:
    """Monkey-patch the standard library for the async framework, before other imports."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import warnings

        warnings.filterwarnings("ignore", message="Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()


def build(mode: str) -> tuple[Any, Any]:
    """The Flask app and its SocketIO, with a health route and the two events."""
    from flask import Flask, jsonify
    from flask_socketio import SocketIO

    app = Flask(__name__)
    socketio = SocketIO(app, async_mode=mode)

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    register_events(socketio)
    return app, socketio


def register_events(socketio: Any) -> None:
    """`join` puts the socket in a room; `send_message` broadcasts to the whole room."""
    from datetime import UTC, datetime

    from flask import request
    from flask_socketio import join_room

    ids = itertools.count(1)

    @socketio.on("join")
    def join(data: dict[str, str]) -> dict[str, bool]:
        join_room(data["room"])
        return {"ok": True}

    @socketio.on("send_message")
    def send_message(data: dict[str, str]) -> dict[str, object]:
        message = {
            "id": next(ids),
            "room": data["room"],
            "user": request.sid[:8],
            "text": data["text"],
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        socketio.emit("message", message, to=data["room"])
        return {"ok": True, "id": message["id"]}


def main() -> None:
    """Serve on 127.0.0.1:PORT until killed."""
    port = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("PICHAT_ASYNC_MODE", "eventlet")
    patch(mode)
    app, socketio = build(mode)
    # Same ceiling as PiChat's MAX_CONNECTIONS: eventlet otherwise stops at 1024 sockets.
    ceiling = {"spawn": MAX_CONNECTIONS} if mode == "gevent" else {"max_size": MAX_CONNECTIONS}
    socketio.run(app, host="127.0.0.1", port=port, **ceiling)


if __name__ == "__main__":
    main()
