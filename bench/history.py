"""Benchmark: one persistent room holding 1,000,000 messages, on SQLite and on PostgreSQL.

``python bench/history.py [--messages 1000000] [--databases sqlite,postgresql]``

Per database, one PiChat server (eventlet) and its room "archivo", whose messages are
generated straight into the database (bench/history_data.py), the oldest 100,000 past a
year. Through the socket (bench/sioclient.py), as the chat page asks:

- history: pages of 50 before a random message (any depth), and the newest page;
- search: common, rare, absent and accented words, one or two at a time;
- sending: one member's 4 sockets send rounds of messages into "archivo" and into an
  empty persistent room, back to back, each with 16 awaiting their ack;
- purge: 30 members chat in another room at 50 messages/s; after 5 quiet seconds the
  creator sets a retention of 365 days and the sweeper purges the 100,000 (then compacts
  the SQLite search index); chat latency while it works against before.

Targets: history p95 <= 20 ms, search p95 <= 50 ms, send rate into "archivo" >= 0.9x the
rate into the empty room, chat p99 during the purge <= 1.5x the quiet p99. The event
budget per socket is raised for the measuring sockets (the limit is not what is measured).
PostgreSQL: PICHAT_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/
pichat_bench), a database this benchmark creates afresh and drops at the end; skipped when
PostgreSQL cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path
from time import perf_counter

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ServerProcess,
    http_session,
    load,
    login_form,
    percentile,
    pichat_server,
    post_login,
    print_table,
    raise_fd_limit,
    verdict,
)
from bench.history_data import (  # noqa: E402
    Database,
    drop_postgres_database,
    fresh_postgres_database,
    message_id,
)
from bench.history_purge import CHAT_MEMBERS, CHAT_RATE, purge, timed  # noqa: E402
from bench.sioclient import SioClient  # noqa: E402

MESSAGES = 1_000_000
EXPIRED = 100_000
ROOM, EMPTY = "archivo", "vacia"
PASSWORD = "clave-del-archivo"
DEMO = {"admin": "admin123", "cliente": "cliente123", "usuario": "usuario123"}
PAGES, SEARCH_ROUNDS, WARM_UP = 200, 12, 20
# Sends are pipelined over several sockets: a sender's ack waits ~40 ms behind the broadcast
# it also receives (Nagle's algorithm on the server's socket meets the client's delayed
# ACK), so sends one at a time, or on one socket, would time that wait, the same for both
# rooms, rather than the server's work.
SEND_ROUNDS, SENDS, SENDERS, IN_FLIGHT = 6, 400, 4, 16
QUERIES = ["reunión", "REUNION", "cafe", "ref100", "ref500", "ref2000", "reunión ref300",
           "café ref700", "mañana informe", "inexistente"]
POSTGRES_URL = os.environ.get("PICHAT_BENCH_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/pichat_bench")
TARGETS = {"history": 20.0, "search": 50.0, "send": 0.9}


async def log_in(server: ServerProcess, username: str, index: int):
    """A demo account's HTTP session through the real form, from its own address."""
    http = http_session(index)
    await post_login(http, server.url, username, await login_form(http, server.url),
                     DEMO[username])
    return http


def latency_row(name: str, label: str, samples: list[float], target: float,
                note: str = "") -> list[object]:
    ms = [1e3 * s for s in samples]
    p95 = percentile(ms, 0.95)
    return [name, label, len(ms), percentile(ms, 0.5), p95, max(ms), f"<= {target:g} ms",
            verdict(p95 <= target), note]


async def reads(name: str, client: SioClient, count: int) -> list[list[object]]:
    """History pages at random depths and searches; two table rows."""
    chosen = random.Random(15)  # noqa: S311  (which pages to ask for, the same every run)
    befores = [None] * (PAGES // 10) + [message_id(chosen.randrange(1, count))
                                         for _ in range(PAGES)]
    pages = []
    for number, before in enumerate(befores):
        payload = {"room": ROOM, "limit": 50, **({"before": before} if before else {})}
        took = await timed(client, "history", payload)
        if number >= WARM_UP:
            pages.append(took)
    searches: dict[str, list[float]] = {q: [] for q in QUERIES}
    for _ in range(SEARCH_ROUNDS):
        for q in QUERIES:
            searches[q].append(await timed(client, "search_messages", {"room": ROOM, "q": q}))
    slowest = max(QUERIES, key=lambda q: percentile(searches[q], 0.95))
    return [latency_row(name, "history page (50)", pages, TARGETS["history"]),
            latency_row(name, f"search ({len(QUERIES)} queries)",
                        [took for q in QUERIES for took in searches[q]], TARGETS["search"],
                        f"slowest: {slowest!r}")]


async def send_burst(clients: list[SioClient], room: str, count: int) -> float:
    """Messages per second into `room`: `count` sends spread over the sockets, each with
    IN_FLIGHT awaiting their ack at once."""
    slots = {id(client): asyncio.Semaphore(IN_FLIGHT) for client in clients}

    async def one(number: int) -> None:
        client = clients[number % len(clients)]
        async with slots[id(client)]:
            await timed(client, "send_message", {"room": room, "text": f"envío {number}"})

    started = perf_counter()
    await asyncio.gather(*(one(number) for number in range(count)))
    return count / (perf_counter() - started)


async def sends(name: str, clients: list[SioClient]) -> list[object]:
    """Rounds of sends into the big room and the empty one, back to back, which goes first
    alternating; the table row. The ratio is the median of each round's ratio: the rate
    of a whole round moves with the machine's other load (2-3x here), a pair hardly."""
    rates: dict[str, list[float]] = {ROOM: [], EMPTY: []}
    await send_burst(clients, ROOM, SENDS)  # warm-up
    await send_burst(clients, EMPTY, SENDS)
    for round_number in range(SEND_ROUNDS):
        for room in (ROOM, EMPTY) if round_number % 2 else (EMPTY, ROOM):
            rates[room].append(await send_burst(clients, room, SENDS))
    for room in (ROOM, EMPTY):
        print(f"{name}: sends/s into {room!r}, round by round:",
              " ".join(f"{rate:.0f}" for rate in rates[room]), flush=True)
    ratio = statistics.median(big / empty for big, empty in zip(*rates.values(), strict=True))
    big, empty = (statistics.median(rates[room]) for room in (ROOM, EMPTY))
    return [name, SEND_ROUNDS * SENDS, big, empty, f"{ratio:.2f}x",
            verdict(ratio >= TARGETS["send"])]


def start(database_name: str) -> tuple[ServerProcess, Database]:
    """A PiChat server on SQLite or on a fresh PostgreSQL database, and that database."""
    budget = {"CHAT_EVENTS_PER_SECOND": "100000", "CHAT_EVENTS_BURST": "100000"}
    if database_name == "sqlite":
        server = pichat_server("eventlet", **budget)
        return server.start(), Database(sqlite_path=str(server.root / "pichat.db"))
    url = fresh_postgres_database(POSTGRES_URL)
    server = pichat_server("eventlet", DATABASE_URL=url.replace(
        "postgresql://", "postgresql+psycopg://", 1), **budget)
    return server.start(), Database(postgres_url=url)


async def measure(database_name: str, count: int) -> dict[str, list[list[object]]]:
    """Every measure on one database; rows by table."""
    server, database = start(database_name)
    name, expired = database.name, min(EXPIRED, count // 10)
    sessions = [await log_in(server, user, index) for index, user in enumerate(DEMO)]
    admin = await SioClient(sessions[0], server.url, events=frozenset()).connect()
    try:
        for code in (ROOM, EMPTY):
            await timed(admin, "create_room", {"code": code, "password": PASSWORD,
                                               "persistent": True})
        room_id = database.query("SELECT id FROM chat_rooms WHERE code = ?", ROOM)[0]
        began = time.monotonic()
        await asyncio.to_thread(database.fill, room_id, count, expired)
        print(f"{name}: {count:,} messages generated in {time.monotonic() - began:.0f} s",
              flush=True)
        measured = {"reads": await reads(name, admin, count)}
        senders = [await SioClient(sessions[0], server.url, events=frozenset()).connect()
                   for _ in range(SENDERS)]
        try:
            measured["sends"] = [await sends(name, senders)]
        finally:
            await asyncio.gather(*(sender.close() for sender in senders))
        measured["purge"] = [await purge(name, server, database, admin, sessions,
                                         (ROOM, room_id), expired)]
        return measured
    finally:
        await admin.close()
        for http in sessions:
            await http.close()
        server.stop()
        if database.postgres_url:
            drop_postgres_database(database.postgres_url)


def main() -> None:
    """Measure each database in turn and print the three tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--databases", default="sqlite,postgresql")
    options = parser.parse_args()
    raise_fd_limit()
    tables: dict[str, list[list[object]]] = {"reads": [], "sends": [], "purge": []}
    for database_name in options.databases.split(","):
        try:
            measured = asyncio.run(measure(database_name, options.messages))
        except psycopg.OperationalError as exc:
            print(f"{database_name}: skipped, PostgreSQL not reachable ({exc})".strip())
            continue
        for table, rows in measured.items():
            tables[table] += rows
    print_table(f"History and search in a room of {options.messages:,} messages; {load()}",
                ["database", "request", "n", "p50 ms", "p95 ms", "max ms", "target", "", "note"],
                tables["reads"])
    print_table(f"Sending into that room against an empty persistent room ({SENDERS} sockets, "
                f"{IN_FLIGHT} in flight each; medians of rounds)",
                ["database", "sends each", "big /s", "empty /s", "ratio",
                 f">= {TARGETS['send']}x"], tables["sends"])
    print_table(f"Chat ({CHAT_MEMBERS} members, {CHAT_RATE} msg/s) while expired messages "
                "are purged", ["database", "purged", "purge s", "quiet p99 ms",
                                        "during p99 ms", "ratio", "lost",
                                        "<= 1.5x"], tables["purge"])


if __name__ == "__main__":
    main()
