"""Socket.IO's message queue on Redis, as chat needs it: a message that cannot be published
fails its sender's event instead of vanishing.

python-socketio's RedisManager logs "Cannot publish to redis... giving up" twice and drops
the message, so while Redis was away a sender's ack said ok and nobody, on any process, got
the message. Here a publish that fails inside a client event raises the Redis error, which
chat/acks.py answers with a failing ack saying so; outside events (presence broadcasts,
file notices sent from HTTP requests, background tasks) nobody waits for an answer, and
the message is dropped with one warning line.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
import socketio
from flask import has_request_context, request

log = logging.getLogger(__name__)
# Flask-SocketIO's default channel, which any other emitter on this Redis also uses
# (a script with SocketIO(message_queue=REDIS_URL)).
CHANNEL = "flask-socketio"


class RedisQueue(socketio.RedisManager):
    """The Redis manager with a publish that fails loudly where someone waits for an ack."""

    def _publish(self, data: Any) -> Any:
        # Two tries: after a Redis restart the first one meets the connection it closed.
        for last_try in (False, True):
            try:
                if not self.connected:
                    self._redis_connect()
                return self.redis.publish(self.channel, self.json.dumps(data))
            except redis.RedisError:
                self.connected = False
                if not last_try:
                    continue
                if in_client_event():
                    raise
                log.warning("Socket.IO message dropped: Redis does not answer")
        return None


def in_client_event() -> bool:
    """Whether this code runs for a Socket.IO event a client sent (Flask-SocketIO's context)."""
    return has_request_context() and getattr(request, "event", None) is not None


def redis_queue(url: str | None) -> RedisQueue | None:
    """The queue for REDIS_URL, or None for a single process (no queue)."""
    return RedisQueue(url, channel=CHANNEL) if url else None
