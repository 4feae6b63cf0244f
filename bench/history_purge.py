"""The purge part of bench/history.py: members chat in an ephemeral room while the sweeper
purges a big room's expired messages; chat latency during the purge against before.

The purge (and, on SQLite, the compaction of the search index after it) is over when the
room's oldest message is the first one kept and the index is one segment again, watched
straight in the database.
"""

from __future__ import annotations

import asyncio
from time import perf_counter

from bench.common import ServerProcess, percentile, verdict
from bench.history_data import Database, message_id
from bench.roomload import Room, Target
from bench.sioclient import SioClient

CHAT_MEMBERS, CHAT_RATE, QUIET_SECONDS, PURGE_SECONDS = 30, 50, 5.0, 20.0
TARGET_RATIO = 1.5


async def timed(client: SioClient, event: str, payload: dict) -> float:
    """Seconds an acked event takes; RuntimeError when refused."""
    started = perf_counter()
    answer = await client.emit(event, payload)
    if not answer.get("ok"):
        raise RuntimeError(f"{event} refused: {answer}")
    return perf_counter() - started


def chat_target(server: ServerProcess, sessions: list) -> Target:
    """Chat members on the demo accounts, in an ephemeral room. Membership is the account's:
    each account joins once and all its sockets are in."""
    credentials = {"code": "charla", "password": "clave-de-la-charla"}
    joined: dict[int, asyncio.Task] = {}

    async def http_for(index: int):
        return sessions[index % len(sessions)]

    async def join(client: SioClient) -> str:
        account = sessions.index(client.http)
        if account not in joined:
            while account and 0 not in joined:  # the first account creates the room
                await asyncio.sleep(0.01)
            if account:
                await joined[0]
            event = "join_room" if account else "create_room"
            joined[account] = asyncio.create_task(client.emit(event, credentials))
        answer = await joined[account]
        if not answer.get("ok"):
            raise RuntimeError(f"chat room refused: {answer}")
        return answer["room"]

    return Target(server.name, server, http_for, join)


async def watch_purge(database: Database, room_id: int, first_kept: int, until: float) -> float:
    """perf_counter time at which the purge and the index compaction are both done (nan:
    not by `until`)."""
    while perf_counter() < until:
        oldest = await asyncio.to_thread(
            database.query, "SELECT min(seq) FROM chat_messages WHERE room_id = ?", room_id)
        if oldest[0] >= first_kept and await asyncio.to_thread(database.search_index_merged):
            return perf_counter()
        await asyncio.sleep(0.25)
    return float("nan")


async def purge(name: str, server: ServerProcess, database: Database, admin: SioClient,
                sessions: list, room: tuple[str, int], expired: int) -> list[object]:
    """Chat while the big room's expired messages are purged; the table row. `room`: the
    big room's code and id."""
    code, room_id = room
    first_kept = database.query("SELECT seq FROM chat_messages WHERE id = ?",
                                message_id(expired))[0]
    chatting = Room(chat_target(server, sessions))
    await chatting.grow(CHAT_MEMBERS)
    try:
        chat = asyncio.create_task(chatting.run(CHAT_MEMBERS, CHAT_MEMBERS / CHAT_RATE,
                                                QUIET_SECONDS + PURGE_SECONDS))
        started = perf_counter()
        await asyncio.sleep(QUIET_SECONDS)
        set_at = perf_counter()
        await timed(admin, "set_retention", {"room": code, "days": 365})
        done_at = await watch_purge(database, room_id, first_kept,
                                    started + QUIET_SECONDS + PURGE_SECONDS)
        phase = await chat
    finally:
        await chatting.close()
    quiet = percentile(phase.latencies(started + 0.5, set_at), 0.99)
    during = percentile(phase.latencies(set_at, done_at), 0.99)
    ratio = during / quiet
    return [name, expired, done_at - set_at, 1e3 * quiet, 1e3 * during, f"{ratio:.2f}x",
            phase.lost, verdict(ratio <= TARGET_RATIO and phase.lost == 0)]
