"""Benchmark: chat delivery latency while many people log in at once.

``python bench/login_storm.py [--modes eventlet,gevent]``

50 members of one PiChat room chat at 50 messages/s in total (1/s each). After a quiet
stretch, 10 and then 20 people log in at once: each fetches the form (its own CSRF
token) and POSTs it from its own address, so Argon2 verifies run together while the
chat keeps going. Target: the worst delivery latency of messages sent during the
10-login burst <= 3x the chat's p99 without a burst.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from time import perf_counter

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    MODES,
    add_bench_users,
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
from bench.roomload import Phase, Room, pichat_target  # noqa: E402

MEMBERS = 50
CHAT_RATE = 50
BURSTS = (10, 20)
QUIET_SECONDS = 5.0
BURST_GAP_SECONDS = 4.0
# Messages sent shortly before a burst are still in flight while it runs.
LEAD_SECONDS = 0.5
TARGET_RATIO = 3.0
STORM_INDEX = 10_000  # source addresses of the storm, apart from the members'

# A burst's start and end (perf_counter seconds) and each of its logins' seconds.
Window = tuple[float, float, list[float]]


async def burst(url: str, names: list[str], first: int) -> Window:
    """Log `names` in at once; return (start, end, each login's seconds)."""
    sessions = [http_session(first + i) for i in range(len(names))]
    try:
        tokens = await asyncio.gather(*(login_form(http, url) for http in sessions))
        start = perf_counter()

        async def timed(http: aiohttp.ClientSession, name: str, token: str) -> float:
            await post_login(http, url, name, token)
            return perf_counter() - start

        took = await asyncio.gather(*map(timed, sessions, names, tokens))
        return start, perf_counter(), list(took)
    finally:
        await asyncio.gather(*(http.close() for http in sessions))


async def storms(url: str, names: list[str], started: float) -> list[Window]:
    """Run every burst at its offset from `started`; return their windows and login times."""
    windows = []
    used = 0
    for number, size in enumerate(BURSTS):
        await asyncio.sleep(started + QUIET_SECONDS + number * BURST_GAP_SECONDS - perf_counter())
        windows.append(await burst(url, names[used : used + size], STORM_INDEX + used))
        used += size
    return windows


async def measure(mode: str) -> list[list[object]]:
    """Chat in one room while the bursts run; return the table rows."""
    with pichat_server(mode) as server:
        room = Room(pichat_target(server, MEMBERS))
        names = add_bench_users(server, "storm", sum(BURSTS))
        try:
            await room.grow(MEMBERS)
            seconds = QUIET_SECONDS + len(BURSTS) * BURST_GAP_SECONDS
            started = perf_counter()
            phase, windows = await asyncio.gather(
                room.run(MEMBERS, MEMBERS / CHAT_RATE, seconds),
                storms(server.url, names, started),
            )
        finally:
            await room.close()
    return rows(mode, phase, started, windows)


def rows(mode: str, phase: Phase, started: float, windows: list[Window]) -> list[list[object]]:
    """The quiet row and one row per burst, with the ratio against the quiet p99."""
    quiet = phase.latencies(started + LEAD_SECONDS, windows[0][0] - LEAD_SECONDS)
    note = f"lost {phase.lost}, refused {phase.refused}"
    table = [[mode, "none", "-", "-", "-", *chat_columns(quiet), "-", "-", note]]
    for size, window in zip(BURSTS, windows, strict=True):
        table.append(burst_row(mode, size, window, phase, percentile(quiet, 0.99)))
    return table


def burst_row(mode: str, size: int, window: Window, phase: Phase, quiet_p99: float) -> list[object]:
    """One burst: how long its logins took and the chat latency while they ran."""
    start, end, took = window
    during = phase.latencies(start - LEAD_SECONDS, end)
    ratio = max(during, default=float("nan")) / quiet_p99
    target = verdict(ratio <= TARGET_RATIO and phase.lost == 0) if size == 10 else "-"
    logins = [end - start, 1e3 * percentile(took, 0.5), 1e3 * max(took)]
    return [mode, size, *logins, *chat_columns(during), f"{ratio:.2f}x", target, ""]


def chat_columns(latencies: list[float]) -> list[float]:
    """p50, p99 and worst delivery latency in milliseconds."""
    worst = max(latencies, default=float("nan"))
    return [1e3 * percentile(latencies, 0.5), 1e3 * percentile(latencies, 0.99), 1e3 * worst]


HEADERS = [
    "mode",
    "logins",
    "burst s",
    "login p50 ms",
    "login max ms",
    "chat p50 ms",
    "chat p99 ms",
    "chat max ms",
    "max/quiet p99",
    "target",
    "note",
]


def main() -> None:
    """Run the storm in every requested mode and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES))
    options = parser.parse_args()
    raise_fd_limit()
    table = []
    for mode in options.modes.split(","):
        table += asyncio.run(measure(mode))
    print_table(
        f"Login storm: {MEMBERS} members chatting at {CHAT_RATE} msg/s; target: worst latency "
        f"during 10 logins <= {TARGET_RATIO}x the quiet p99, 0 lost; {load()}",
        HEADERS,
        table,
    )


if __name__ == "__main__":
    main()
