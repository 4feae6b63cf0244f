"""N members in one chat room: paced senders within PiChat's limit, every delivery timed.

Each message carries its sequence number in its text; the sender notes the send time
in this process, so a delivery's latency is measured on one clock. A message counts as
delivered when every member (the sender too: both servers echo to the whole room) has
received it; what never arrives by the end of the drain is reported as lost.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import aiohttp

from bench.common import ServerProcess, add_bench_users, logged_in
from bench.sioclient import SioClient, SocketIOError

HttpFor = Callable[[int], Awaitable[aiohttp.ClientSession]]
JoinFn = Callable[[SioClient], Awaitable[str]]
# A short chat line, as people type them.
TEXT = "mensaje de prueba de rendimiento"
ROOM = "banco"
LOBBY = "lobby"
ROOM_PASSWORD = "clave-de-la-sala"
DRAIN_SECONDS = 5.0
CONNECT_CONCURRENCY = 16


@dataclass
class Target:
    """One server under test: its process, a person's HTTP session, and joining the room."""

    label: str
    server: ServerProcess
    http_for: HttpFor
    join: JoinFn
    # Whether its members offer permessage-deflate on their websockets, as browsers do.
    deflate: bool = False


def pichat_target(
    server: ServerProcess, accounts: int, lobby: bool = False, deflate: bool = False
) -> Target:
    """PiChat: member i is account i % accounts; members join the room (or stay in the lobby)."""
    # Several sockets per account, like tabs; each account logs in once, through the form,
    # from its own address. The lobby is the room every socket is in from the start.
    names = add_bench_users(server, "fan", accounts)
    logins: dict[int, asyncio.Task[aiohttp.ClientSession]] = {}
    credentials = {"code": ROOM, "password": ROOM_PASSWORD}
    creation: list[asyncio.Task[Any]] = []

    async def http_for(index: int) -> aiohttp.ClientSession:
        account = index % accounts
        if account not in logins:
            logins[account] = asyncio.create_task(
                logged_in(server.url, names[account], account, server.client_ssl())
            )
        return await logins[account]

    async def join(client: SioClient) -> str:
        if lobby:
            return LOBBY
        if creation:
            await creation[0]  # the room exists once its creator's ack is in
            ack = await client.emit("join_room", credentials)
        else:
            creation.append(asyncio.create_task(client.emit("create_room", credentials)))
            ack = await creation[0]
        if not ack.get("ok"):
            raise RuntimeError(f"joining the room was refused: {ack}")
        return ack["room"]

    return Target(server.name, server, http_for, join, deflate)


def bare_target(server: ServerProcess) -> Target:
    """The bare server: no login (one shared HTTP session), `join` {room}."""
    shared: list[aiohttp.ClientSession] = []

    async def http_for(_index: int) -> aiohttp.ClientSession:
        if not shared:
            shared.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)))
        return shared[0]

    async def join(client: SioClient) -> str:
        await client.emit("join", {"room": ROOM})
        return ROOM

    return Target(server.name, server, http_for, join)


@dataclass
class Phase:
    """What one load phase measured."""

    seconds: float
    sent: int = 0
    refused: int = 0
    delivered: int = 0
    lost: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    # (send time, latency) of every delivery, in perf_counter seconds.
    samples: list[tuple[float, float]] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Deliveries per second while the senders ran."""
        return self.delivered / self.seconds

    def latencies(self, start: float = 0.0, end: float = float("inf")) -> list[float]:
        """Latencies of the deliveries of messages sent within [start, end]."""
        return [latency for sent, latency in self.samples if start <= sent <= end]


class Room:
    """The members of one room on one target, and the load they put on it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.clients: list[SioClient] = []
        self.room = ROOM
        self._seq = itertools.count(1)
        self._sent_at: dict[int, float] = {}
        self._received: dict[int, int] = {}
        self._window: asyncio.Semaphore | None = None
        self._phase = Phase(0.0)

    async def grow(self, size: int) -> float:
        """Connect and join members until the room has `size`; return the seconds it took."""
        started = perf_counter()
        slots = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def add(index: int) -> None:
            async with slots:
                http = await self.target.http_for(index)
                client = SioClient(
                    http,
                    self.target.server.url,
                    self._on_event,
                    {"message"},
                    deflate=self.target.deflate,
                )
                await client.connect()
                self.room = await self.target.join(client)
                self.clients.append(client)

        await asyncio.gather(*(add(i) for i in range(len(self.clients), size)))
        return perf_counter() - started

    async def close(self) -> None:
        """Close every member's socket and HTTP session."""
        await asyncio.gather(*(client.close() for client in self.clients))
        for http in {client.http for client in self.clients}:
            await http.close()
        self.clients.clear()

    def _on_event(self, _name: str, data: Any) -> None:
        now = perf_counter()
        seq = int(data["text"].split(" ", 1)[0])
        sent = self._sent_at.get(seq)
        if sent is None:
            return
        self._phase.samples.append((sent, now - sent))
        count = self._received[seq] = self._received.get(seq, 0) + 1
        if count == len(self.clients) and self._window is not None:
            self._window.release()

    async def run(
        self, senders: int, interval: float, seconds: float, window: int | None = None
    ) -> Phase:
        """Members 0..senders-1 each send one message per `interval` for `seconds`."""
        self._sent_at.clear()
        self._received.clear()
        self._window = asyncio.Semaphore(window) if window else None
        phase = self._phase = Phase(seconds)
        cpu, own, started = self.target.server.cpu_seconds(), time.process_time(), perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                self._sender(
                    self.clients[i % len(self.clients)], interval, i * interval / senders, deadline
                )
                for i in range(senders)
            )
        )
        phase.seconds = perf_counter() - started
        phase.delivered = len(phase.samples)
        await self._drain()
        phase.sent = len(self._sent_at)
        phase.lost = phase.sent * len(self.clients) - len(phase.samples)
        phase.server_cpu = self.target.server.cpu_seconds() - cpu
        phase.client_cpu = time.process_time() - own
        return phase

    async def _sender(
        self, client: SioClient, interval: float, offset: float, deadline: float
    ) -> None:
        """Send one message per `interval` (never faster) until the deadline."""
        await asyncio.sleep(offset)
        while (started := perf_counter()) < deadline:
            if self._window is not None:
                try:
                    await asyncio.wait_for(self._window.acquire(), deadline - started)
                except TimeoutError:
                    return
            await self._send_one(client)
            await asyncio.sleep(started + interval - perf_counter())

    async def _send_one(self, client: SioClient) -> None:
        """Send one numbered message; a refusal is counted and frees its window slot."""
        seq = next(self._seq)
        self._sent_at[seq] = perf_counter()
        try:
            ack = await client.emit("send_message", {"room": self.room, "text": f"{seq} {TEXT}"})
        except SocketIOError:
            ack = None
        if not (isinstance(ack, dict) and ack.get("ok")):
            del self._sent_at[seq]
            self._phase.refused += 1
            if self._window is not None:
                self._window.release()

    async def _drain(self) -> None:
        """Wait until every sent message reached every member, or DRAIN_SECONDS pass."""
        expected = len(self.clients)
        deadline = perf_counter() + DRAIN_SECONDS
        while perf_counter() < deadline:
            if all(self._received.get(seq, 0) >= expected for seq in self._sent_at):
                return
            await asyncio.sleep(0.05)
