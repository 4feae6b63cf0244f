"""A minimal Engine.IO v4 / Socket.IO v5 client over aiohttp websockets, for benchmarks.

python-socketio's own client spends about four times the server's CPU per message, so
a benchmark driven by it measures itself. This client speaks only what the benchmarks
need on the default namespace: the websocket transport directly (no polling), the
"0" open and "40" connect handshake, "42" events, "43" acks and the "2"/"3" ping/pong.
Thousands of them share one asyncio loop and one aiohttp session per user (its cookie
jar carries the login). Like a browser they send the session cookie and an Origin header;
with `deflate=True` they also offer permessage-deflate, as every browser does (the
server then compresses each frame it sends to that socket). An https:// base URL gives a
wss:// socket over the session's verifying SSL context.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

EventHandler = Callable[[str, Any], None]
HANDSHAKE_SECONDS = 10.0
ACK_SECONDS = 10.0
_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class SocketIOError(Exception):
    """The server refused the connection, closed it, or did not answer in time."""


def _ignore(_event: str, _data: Any) -> None:
    """The default event handler: drop the event."""


class SioClient:
    """One Socket.IO connection; events go to `on_event(name, data)` as they arrive."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        on_event: EventHandler = _ignore,
        events: frozenset[str] | None = None,
        deflate: bool = False,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.on_event = on_event
        # Only these events are decoded (None: all); the rest are dropped unparsed.
        self.events = events
        # Offer permessage-deflate (browsers do); off by default so the fan-out tables stay
        # comparable and the server's CPU goes to PiChat, not zlib.
        self.deflate = deflate
        self.sid: str | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    @property
    def deflated(self) -> bool:
        """Whether the server accepted permessage-deflate on this socket."""
        return self.ws is not None and self.ws.compress > 0

    @property
    def connected(self) -> bool:
        """Whether the namespace is connected and the websocket open."""
        return self.sid is not None and self.ws is not None and not self.ws.closed

    async def connect(self, timeout: float = HANDSHAKE_SECONDS) -> SioClient:
        """Open the websocket and join the default namespace; SocketIOError when refused."""
        url = self.base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        # compress=15 offers "permessage-deflate; client_max_window_bits", as Chrome does.
        self.ws = await self.http.ws_connect(
            url,
            headers={"Origin": self.base_url},
            compress=15 if self.deflate else 0,
            max_msg_size=0,
        )
        try:
            async with asyncio.timeout(timeout):
                await self._handshake()
        except BaseException as exc:
            await self.ws.close()
            if isinstance(exc, TimeoutError):
                raise SocketIOError(f"no handshake within {timeout}s") from None
            raise
        self._reader = asyncio.create_task(self._read_loop())
        return self

    async def _handshake(self) -> None:
        """Read the open packet, ask for the default namespace, wait for the answer."""
        assert self.ws is not None
        opening = await self._next_text()
        if not opening.startswith("0"):
            raise SocketIOError(f"expected an Engine.IO open packet, got {opening[:80]!r}")
        await self.ws.send_str("40")
        while self.sid is None:
            self._handshake_packet(await self._next_text())

    def _handshake_packet(self, text: str) -> None:
        """Handle one packet that arrives before the namespace is connected."""
        if text.startswith("40"):
            self.sid = json.loads(text[2:] or "{}").get("sid", "")
        elif text.startswith("44"):
            raise SocketIOError(f"connection refused: {text[2:]}")
        else:
            self._dispatch(text)

    async def _next_text(self) -> str:
        """The next text frame, answering pings; SocketIOError when the socket closes."""
        assert self.ws is not None
        while True:
            message = await self.ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise SocketIOError(f"websocket closed during handshake ({message.type.name})")
            if message.data == "2":
                await self.ws.send_str("3")
                continue
            return message.data

    async def _read_loop(self) -> None:
        """Dispatch every frame until the socket closes, then fail the pending acks."""
        assert self.ws is not None
        try:
            async for message in self.ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                if message.data == "2":
                    await self.ws.send_str("3")
                elif message.data.startswith("41"):
                    break
                else:
                    self._dispatch(message.data)
        finally:
            self.sid = None
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(SocketIOError("disconnected"))
            self._acks.clear()

    def _dispatch(self, text: str) -> None:
        """Route one Socket.IO packet: an event to the handler, an ack to its waiter."""
        kind = text[:2]
        if kind == "42":
            if self.events is not None and text[4 : text.find('"', 4)] not in self.events:
                return
            name, *args = json.loads(text[2:])
            self.on_event(name, args[0] if len(args) == 1 else args)
        elif kind == "43":
            body = text[2:]
            split = body.index("[")
            future = self._acks.pop(int(body[:split]), None)
            if future is not None and not future.done():
                args = json.loads(body[split:])
                future.set_result(args[0] if len(args) == 1 else args)

    async def emit(self, event: str, data: Any, timeout: float = ACK_SECONDS) -> Any:
        """Send an event and return the server's ack; SocketIOError on timeout or close."""
        if not self.connected:
            raise SocketIOError("not connected")
        ack_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send_str(f"42{ack_id}{_DUMPS([event, data])}")  # type: ignore[union-attr]
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise SocketIOError(f"no ack for {event!r} within {timeout}s") from None
        finally:
            self._acks.pop(ack_id, None)

    async def close(self) -> None:
        """Close the websocket and stop reading."""
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self.sid = None
