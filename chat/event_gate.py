"""Every client event spends its socket's budget before any other work is done for it.

python-socketio starts a task for each event and Flask-SocketIO builds a request context
in it; the reader of a websocket keeps reading while frames are buffered. A script
sending frames as fast as its socket takes them made the server do all that per frame,
and everyone else's messages waited seconds. So the budget is checked where
python-socketio dispatches an event (``Server._handle_event``, private in the pinned
version; the flood tests fail if it moves): an event over budget is answered
``rate_limited`` right there, and a socket refused FLOOD_REFUSALS times within the
window is cut off, audited once, its later frames dropped unread.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from socketio import Server, packet

from chat.acks import failure
from chat.state import ChatState, Connection
from logging_ import audit

RATE_LIMITED = failure("rate_limited", "Demasiados eventos; espere un momento.")


def install(app: Flask, state: ChatState, server: Server) -> None:
    """Put the budget check in front of the server's event dispatch."""
    dispatch = server._handle_event

    def gated(eio_sid: str, namespace: str | None, ack_id: int | None, data: Any) -> None:
        # A socket's reader goes on while frames are buffered: let the others run between.
        server.sleep(0)
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        connection = state.connection(sid) if sid else None
        if connection is None:
            dispatch(eio_sid, namespace, ack_id, data)
        elif connection.cut_off:
            return
        elif connection.bucket.take():
            dispatch(eio_sid, namespace, ack_id, data)
        else:
            _refuse(app, server, connection, eio_sid, namespace, ack_id)

    server._handle_event = gated


def _refuse(app: Flask, server: Server, connection: Connection, eio_sid: str,
            namespace: str | None, ack_id: int | None) -> None:
    if ack_id is not None:
        server._send_packet(eio_sid, server.packet_class(
            packet.ACK, namespace=namespace, id=ack_id, data=[RATE_LIMITED]))
    if not connection.flood.refused():
        return
    connection.cut_off = True
    address = server.environ.get(eio_sid, {}).get("REMOTE_ADDR", "")
    with app.app_context():
        audit("rate_limited", target="socket", outcome="disconnected", user=connection.username,
              ip=address, detail=f"flood: {connection.flood.limit} refused events in "
              f"{connection.flood.window:g} s")
    server.disconnect(connection.sid)
