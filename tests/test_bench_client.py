"""The benchmarks' minimal Socket.IO client really speaks to a live PiChat server."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp
import pytest

from bench.common import login_form, post_login
from bench.sioclient import SioClient, SocketIOError
from tests.live_server import LiveServer

T = TypeVar("T")


def cookie_session() -> aiohttp.ClientSession:
    """An HTTP session that keeps the server's cookies (it is reached by IP address)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def round_trip(url: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Log in, connect, create a room, send to it; return both acks and the message event."""
    inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    async with cookie_session() as http:
        await post_login(http, url, "admin", await login_form(http, url), password="admin123")
        client = SioClient(http, url, lambda name, data: inbox.put_nowait((name, data)))
        await client.connect()
        try:
            created = await client.emit("create_room", {"code": "banco", "password": "clave-1"})
            sent = await client.emit("send_message", {"room": "banco", "text": "hola 1"})
            async with asyncio.timeout(5):
                while (event := await inbox.get())[0] != "message":
                    pass
        finally:
            await client.close()
    return created, sent, event[1]


async def refused_without_login(url: str) -> None:
    """Connecting with no session must raise SocketIOError (the server's "44" refusal)."""
    async with cookie_session() as http:
        await SioClient(http, url).connect()


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result(timeout=60)


def test_client_handshakes_joins_sends_and_receives(live_server: LiveServer) -> None:
    created, sent, message = run_apart(round_trip(live_server.url))
    assert created["ok"] and created["room"] == "banco"
    assert sent["ok"] and message["id"] == sent["id"]
    assert (message["room"], message["user"], message["text"]) == ("banco", "admin", "hola 1")


def test_client_reports_a_refused_connection(live_server: LiveServer) -> None:
    with pytest.raises(SocketIOError, match="refused"):
        run_apart(refused_without_login(live_server.url))
