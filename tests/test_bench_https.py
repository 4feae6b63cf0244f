"""The HTTPS benchmarks' plumbing works against a live PiChat serving HTTPS from its own CA.

A smoke test, not a timed one: a few browser-like clients (cookies, Origin, permessage-
deflate offered) log in over verified HTTPS, fill a room and exchange messages with none
lost, and a small connect storm is served in full.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from bench.common import add_bench_users, log_in_all, pichat_server
from bench.connect_storm import Storm, storm
from bench.roomload import Phase, Room, pichat_target

pytestmark = pytest.mark.live

T = TypeVar("T")
MODE = os.environ.get("PICHAT_ASYNC_MODE", "eventlet")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API may hold a loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result(timeout=120)


async def room_traffic(room: Room) -> tuple[bool, Phase]:
    """Grow the room to 4 members, send for a moment; whether deflate was on, and the phase."""
    try:
        await room.grow(4)
        deflated = all(client.deflated for client in room.clients)
        return deflated, await room.run(senders=2, interval=0.1, seconds=0.5)
    finally:
        await room.close()


async def small_storm(server: Any, names: list[str]) -> Storm:
    """Log the names in over HTTPS, then connect one socket for each at once."""
    sessions = await log_in_all(server.url, names, ssl_context=server.client_ssl())
    try:
        return await storm(server, sessions, deflate=True)
    finally:
        await asyncio.gather(*(http.close() for http in sessions))


def test_https_server_serves_the_bench_clients() -> None:
    with pichat_server(MODE, tls=True) as server:
        assert server.url.startswith("https://") and server.ca_path.exists()
        deflated, phase = run_apart(room_traffic(Room(pichat_target(server, 2, deflate=True))))
        stormed = run_apart(small_storm(server, add_bench_users(server, "ola", 5)))
    # Browsers offer permessage-deflate: eventlet's websocket takes it, gevent-websocket
    # has none (the bench client copes with either).
    assert deflated == (MODE == "eventlet")
    assert phase.sent > 0 and phase.refused == 0 and phase.lost == 0
    assert phase.delivered == 4 * phase.sent
    assert (stormed.served, stormed.failed) == (5, 0)
    assert stormed.deflated == (5 if MODE == "eventlet" else 0)
