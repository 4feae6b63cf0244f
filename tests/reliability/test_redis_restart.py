"""Redis stopped and started under two PiChat processes: chat works again within 5 seconds,
no process restarted. The test runs its own redis-server on a free port (tests/services.py
`own_redis`), which it stops and starts."""

from __future__ import annotations

import time

import pytest
import redis

from tests import test_chat_live
from tests.services import RedisDaemon
from tests.test_chat_live import LiveChat

two_servers = test_chat_live.two_servers  # the fixture, here on this test's own Redis

RECOVERY_SECONDS = 5.0
DOWN_SECONDS = 2.0


@pytest.fixture
def redis_url(own_redis: RedisDaemon) -> str:
    """The two processes of `two_servers` share this test's own Redis, which it restarts."""
    return own_redis.url


def delivered_within(sender: LiveChat, receiver: LiveChat, seconds: float) -> float | None:
    """Send a lobby message every 0.2 s until the other process's client gets one; the time
    it took, or None."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        try:
            sender.sio.call("send_message", {"room": "lobby", "text": "¿hay alguien?"},
                            timeout=1)
            while True:
                event, payload = receiver.inbox.get(timeout=0.2)
                if event == "message":
                    return elapsed
        except Exception:  # noqa: BLE001  (an ack lost while Redis is away; try again)
            time.sleep(0.2)
    return None


def test_chat_recovers_within_five_seconds_of_redis_coming_back(two_servers, own_redis):
    first, second = two_servers
    admin = LiveChat(first, "admin").connect()
    cliente = LiveChat(second, "cliente").connect()
    try:
        assert delivered_within(admin, cliente, RECOVERY_SECONDS) is not None
        own_redis.stop()
        time.sleep(DOWN_SECONDS)
        own_redis.start()
        took = delivered_within(admin, cliente, RECOVERY_SECONDS)
        assert took is not None, "no message crossed the processes 5 s after Redis came back"
        # Nobody was cut off, no process restarted, and presence knows both again.
        assert admin.sio.connected and cliente.sio.connected
        assert first.process.poll() is None and second.process.poll() is None
        online = redis.Redis.from_url(own_redis.url, decode_responses=True).smembers(
            "pichat:chat:online")
        deadline = time.monotonic() + 15
        while online != {"admin", "cliente"} and time.monotonic() < deadline:
            time.sleep(0.5)
            online = redis.Redis.from_url(own_redis.url, decode_responses=True).smembers(
                "pichat:chat:online")
        assert online == {"admin", "cliente"}
    finally:
        admin.sio.disconnect()
        cliente.sio.disconnect()
