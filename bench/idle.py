"""Benchmark: idle authenticated sockets held by one PiChat process, and their memory.

``python bench/idle.py [--sockets 5000] [--accounts 100] [--modes eventlet]
[--max-connections N]``

Accounts log in through the form (each from its own loopback address); each first
opens one socket (so every account is online and the code paths are warm), then the
rest of the sockets are opened, spread over the accounts like tabs. RSS per socket is
the growth of the server's VmRSS over those sockets. While they are held, GET /login
must still answer 200. Targets: 5,000 sockets, <= 64 KiB each, the login page answering.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ServerProcess,
    add_bench_users,
    bare_server,
    http_session,
    load,
    log_in_all,
    percentile,
    pichat_server,
    print_table,
    raise_fd_limit,
    verdict,
)
from bench.sioclient import SioClient  # noqa: E402

SOCKETS = 5000
ACCOUNTS = 100
CONNECT_CONCURRENCY = 32
SETTLE_SECONDS = 2.0
PAGE_PROBES = 5
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=5)
TARGET_KIB = 64
# Headroom over the sockets for HTTP requests: at the ceiling the server stops answering.
CEILING_HEADROOM = 1000


async def open_sockets(
    url: str, sessions: list[aiohttp.ClientSession], count: int, offset: int = 0
) -> list[SioClient]:
    """Open `count` sockets spread round-robin over the sessions, a few at a time."""
    slots = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(index: int) -> SioClient:
        async with slots:
            client = SioClient(sessions[index % len(sessions)], url, events=frozenset())
            return await client.connect()

    return list(await asyncio.gather(*(one(offset + i) for i in range(count))))


async def probe(url: str, path: str) -> tuple[list[int], list[float]]:
    """GET `path` a few times from a fresh address; return the statuses (0: no answer)."""
    statuses, seconds = [], []
    async with http_session(50_000) as http:
        for _ in range(PAGE_PROBES):
            started = perf_counter()
            try:
                async with http.get(f"{url}{path}", timeout=PROBE_TIMEOUT) as page:
                    await page.read()
                    statuses.append(page.status)
            except (TimeoutError, aiohttp.ClientError):
                statuses.append(0)
            seconds.append(perf_counter() - started)
    return statuses, seconds


@dataclass
class Held:
    """What holding the sockets on one server measured."""

    name: str
    page: str
    warm: int
    opened: int
    seconds: float
    before_kib: int
    after_kib: int
    held: int = 0
    statuses: list[int] = field(default_factory=list)
    probe_seconds: list[float] = field(default_factory=list)

    def row(self) -> list[object]:
        """The table row, with the verdict for PiChat (the bare server has no target)."""
        per_socket = (self.after_kib - self.before_kib) / self.opened
        ok = self.held >= SOCKETS and per_socket <= TARGET_KIB and set(self.statuses) == {200}
        answers = ",".join(sorted({str(code) if code else "no answer" for code in self.statuses}))
        memory = [self.before_kib / 1024, self.after_kib / 1024, per_socket]
        speed = [self.seconds, self.opened / self.seconds]
        probe = [f"{self.page} {answers}", 1e3 * percentile(self.probe_seconds, 0.5)]
        target = verdict(ok) if self.page == "/login" else "-"
        return [self.name, self.held, self.warm, *speed, *memory, *probe, target]


async def hold(
    server: ServerProcess, sessions: list[aiohttp.ClientSession], sockets: int, page: str
) -> Held:
    """Open one socket per session (warm-up), then the rest; measure RSS and `page`."""
    clients: list[SioClient] = []
    warm = len(sessions)
    try:
        clients += await open_sockets(server.url, sessions, warm)
        await asyncio.sleep(SETTLE_SECONDS)
        before, started = server.rss_kib(), perf_counter()
        clients += await open_sockets(server.url, sessions, sockets - warm, warm)
        took = perf_counter() - started
        await asyncio.sleep(SETTLE_SECONDS)
        held = Held(server.name, page, warm, sockets - warm, took, before, server.rss_kib())
        held.statuses, held.probe_seconds = await probe(server.url, page)
        held.held = sum(client.connected for client in clients)
    finally:
        await asyncio.gather(*(client.close() for client in clients))
        await asyncio.gather(*(http.close() for http in set(sessions)))
    return held


async def measure(mode: str, sockets: int, accounts: int, ceiling: str) -> list[Held]:
    """The bare server, then PiChat, each holding `sockets`."""
    with bare_server(mode, MAX_CONNECTIONS=ceiling) as bare:
        plain = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))] * accounts
        results = [await hold(bare, plain, sockets, "/health")]
    # Each account holds its share of the sockets, like many tabs: over the default cap.
    per_account = str(-(-sockets // accounts))
    with pichat_server(mode, MAX_CONNECTIONS=ceiling, MAX_SOCKETS_PER_USER=per_account) as pichat:
        names = add_bench_users(pichat, "idle", accounts)
        results.append(await hold(pichat, await log_in_all(pichat.url, names), sockets, "/login"))
    return results


HEADERS = [
    "server",
    "held",
    "warm-up",
    "connect s",
    "sockets/s",
    "RSS before MiB",
    "RSS after MiB",
    "KiB/socket",
    "probe",
    "probe ms",
    "target",
]


def main() -> None:
    """Run the idle-socket measurement in every requested mode and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=SOCKETS)
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--modes", default="eventlet")
    parser.add_argument(
        "--max-connections",
        type=int,
        help=f"the servers' MAX_CONNECTIONS (default: sockets + {CEILING_HEADROOM})",
    )
    options = parser.parse_args()
    ceiling = options.max_connections or options.sockets + CEILING_HEADROOM
    raise_fd_limit(2 * max(ceiling, options.sockets) + CEILING_HEADROOM)
    results = []
    for mode in options.modes.split(","):
        results += asyncio.run(measure(mode, options.sockets, options.accounts, str(ceiling)))
    print_table(
        f"Idle sockets in one process, bare server then PiChat (PiChat targets: {SOCKETS:,} "
        f"held, <= {TARGET_KIB} KiB RSS each, GET /login 200 while held); {load()}",
        HEADERS,
        [held.row() for held in results],
    )


if __name__ == "__main__":
    main()
