"""Benchmark: a connect storm, 300 logged-in people opening their chat socket at once.

``python bench/connect_storm.py [--modes eventlet,gevent] [--sockets 300] [--no-deflate]``

For each async mode three servers run side by side: the bare Flask-SocketIO server of
bench/bare_server.py (no login, no work at connect: the stack's own cost), and PiChat with
TLS=off and with TLS=auto (its own local CA, which the clients alone trust, verifying it).
On each PiChat, 300 bench accounts log in through the form beforehand, each from its own
loopback address (not timed); the bare server's clients come from the same addresses.
Then, in turns, every one of them opens its Socket.IO websocket at the same instant, as
after a server restart: TCP connect, TLS handshake (HTTPS), websocket upgrade with the
session cookie and Origin (and permessage-deflate offered, as browsers do), Engine.IO
open and the namespace connect, which PiChat accepts only for a valid session.

Reported per storm: sockets served and failed (refused, error or over the phase's
timeout), the connect rate (served / time until the last one connected), per-socket
connect time p50/p99/max, connections the kernel dropped at a full listen queue (a
namespace-wide counter: 0 unless the accept loop falls behind), the server's CPU until
it is quiet again (presence changes go out to everyone online, batched), how
long that took, and the server's memory growth per socket (its first storm: later ones
reuse what the first freed). Each storm runs three times per server, alternating, the
fastest kept; all sockets close between storms.

Targets: every socket served; PiChat's HTTP connect rate >= 0.7x the bare stack's; the
HTTPS rate is stated against HTTP's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter, process_time

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    MODES,
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
from bench.sioclient import SioClient, SocketIOError  # noqa: E402

SOCKETS = 300
REPEATS = 3
# Every socket of a storm must be connected by then, or it counts as failed.
STORM_SECONDS = 60.0
# After a storm (and after closing its sockets) the server is given this long to go quiet:
# its CPU use under QUIET_CPU of a core over a QUIET_SAMPLE-s window.
SETTLE_SECONDS = 60.0
QUIET_SAMPLE = 0.25
QUIET_CPU = 0.05
LOGIN_CONCURRENCY = 16
# PiChat checks the session, counts the account's sockets, seats it in its rooms and
# publishes presence at connect; the bare stack does none of it.
TARGET_VERSUS_BARE = 0.7


@dataclass
class Storm:
    """What one storm on one server measured."""

    served: int = 0
    failed: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    settled: float = 0.0
    deflated: int = 0
    listen_drops: int = 0
    rss_growth_kib: int = 0
    connect_times: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Sockets served per second of the storm."""
        return self.served / self.seconds if self.seconds else 0.0


def listen_drops() -> int:
    """The kernel's count of connections dropped at a full listen queue (this namespace)."""
    header, values = [
        line.split() for line in Path("/proc/net/netstat").read_text().splitlines()[:2]
    ]
    return int(dict(zip(header, values, strict=True)).get("ListenDrops", 0))


async def quiet(server: ServerProcess, limit: float = SETTLE_SECONDS) -> float:
    """Wait until the server's CPU use drops to idle; return the seconds it took."""
    started = perf_counter()
    before = server.cpu_seconds()
    while perf_counter() - started < limit:
        await asyncio.sleep(QUIET_SAMPLE)
        now = server.cpu_seconds()
        if now - before < QUIET_CPU * QUIET_SAMPLE:
            break
        before = now
    return perf_counter() - started


async def storm(
    server: ServerProcess, sessions: list[aiohttp.ClientSession], deflate: bool
) -> Storm:
    """Open one socket per session all at once; wait until the server is quiet; close them."""
    result = Storm()
    cpu, drops, rss = server.cpu_seconds(), listen_drops(), server.rss_kib()
    own = process_time()
    started = perf_counter()
    deadline = asyncio.get_running_loop().time() + STORM_SECONDS

    async def one(http: aiohttp.ClientSession) -> SioClient | None:
        client = SioClient(http, server.url, events=frozenset(), deflate=deflate)
        try:
            async with asyncio.timeout_at(deadline):
                await client.connect()
        except (SocketIOError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            await client.close()
            return None
        result.connect_times.append(perf_counter() - started)
        return client

    clients = await asyncio.gather(*(one(http) for http in sessions))
    connected = [client for client in clients if client is not None]
    result.served = len(connected)
    result.failed = len(sessions) - result.served
    result.deflated = sum(client.deflated for client in connected)
    result.seconds = max(result.connect_times, default=0.0)
    result.listen_drops = listen_drops() - drops
    # The storm's cost includes the presence broadcasts it set off; count until quiet.
    result.settled = perf_counter() - started + await quiet(server) - QUIET_SAMPLE
    result.server_cpu = server.cpu_seconds() - cpu
    result.client_cpu = process_time() - own
    result.rss_growth_kib = server.rss_kib() - rss
    await asyncio.gather(*(client.close() for client in connected))
    await quiet(server)
    return result


async def compare(
    servers: list[ServerProcess], sockets: int, repeats: int, deflate: bool
) -> dict[str, list[Storm]]:
    """Log `sockets` accounts in on every server, then storm them in turns."""
    sessions: dict[str, list[aiohttp.ClientSession]] = {}
    try:
        for server in servers:
            sessions[server.name] = await people(server, sockets)
        for server in servers:
            await quiet(server)
        results: dict[str, list[Storm]] = {server.name: [] for server in servers}
        for _ in range(repeats):
            for server in servers:
                results[server.name].append(await storm(server, sessions[server.name], deflate))
        return results
    finally:
        for group in sessions.values():
            await asyncio.gather(*(http.close() for http in group))


async def people(server: ServerProcess, count: int) -> list[aiohttp.ClientSession]:
    """One HTTP session per person: logged in on PiChat, anonymous on the bare server."""
    if server.name.startswith("bare/"):
        return [http_session(index) for index in range(count)]
    names = add_bench_users(server, "ola", count)
    return await log_in_all(server.url, names, LOGIN_CONCURRENCY, server.client_ssl())


def best(storms: list[Storm]) -> Storm:
    """The storm with the highest connect rate."""
    return max(storms, key=lambda one: one.rate)


def detail_row(label: str, storms: list[Storm]) -> list[object]:
    """One table row: the best storm of a server, failures counted over every storm."""
    top = best(storms)
    errors = {}
    for one in storms:
        for name, count in one.errors.items():
            errors[name] = errors.get(name, 0) + count
    return [
        label,
        top.served,
        sum(one.failed for one in storms),
        round(top.seconds, 2),
        top.rate,
        *(1e3 * percentile(top.connect_times, q) for q in (0.5, 0.99, 1.0)),
        top.deflated,
        top.listen_drops,
        round(top.server_cpu, 2),
        round(top.client_cpu, 2),
        round(top.settled, 2),
        storms[0].rss_growth_kib / max(1, storms[0].served),
        ", ".join(f"{name} x{count}" for name, count in errors.items()) or "-",
    ]


DETAIL_HEADERS = [
    "server",
    "served",
    "failed",
    "storm s",
    "sockets/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "deflate",
    "drops",
    "srv CPU s",
    "client CPU s",
    "quiet s",
    "KiB/socket",
    "errors",
]


def run_mode(mode: str, sockets: int, repeats: int, deflate: bool) -> list[object]:
    """Start the bare server and PiChat over HTTP and HTTPS, storm them, print the detail;
    return the summary row."""
    with bare_server(mode) as bare, pichat_server(mode) as plain, \
            pichat_server(mode, tls=True) as tls:
        servers = [bare, plain, tls]
        results = asyncio.run(compare(servers, sockets, repeats, deflate))
    print_table(
        f"Connect storm, {mode}: {sockets} sockets at once, bare stack vs PiChat over HTTP "
        f"and HTTPS ({'deflate offered' if deflate else 'no deflate'}), best of {repeats} "
        f"alternating storms; {load()}",
        DETAIL_HEADERS,
        [detail_row(server.name, results[server.name]) for server in servers],
    )
    base, http, https = (best(results[server.name]) for server in servers)
    failed = sum(one.failed for server in servers for one in results[server.name])
    versus_bare = http.rate / base.rate if base.rate else 0.0
    return [
        mode,
        sockets,
        base.rate,
        http.rate,
        https.rate,
        f"{versus_bare:.2f}x",
        f"{https.rate / http.rate:.2f}x" if http.rate else "-",
        f"{1e3 * percentile(http.connect_times, 0.99):.0f} / "
        f"{1e3 * percentile(https.connect_times, 0.99):.0f}",
        failed,
        verdict(failed == 0 and versus_bare >= TARGET_VERSUS_BARE),
    ]


def main() -> None:
    """Parse the options, run every mode and print HTTPS against HTTP."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--sockets", type=int, default=SOCKETS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    options = parser.parse_args()
    raise_fd_limit()
    deflate = not options.no_deflate
    rows = [
        run_mode(mode, options.sockets, options.repeats, deflate)
        for mode in options.modes.split(",")
    ]
    print_table(
        "Connect storm (targets: every socket served; PiChat HTTP >= "
        f"{TARGET_VERSUS_BARE}x the bare stack)",
        [
            "mode",
            "sockets",
            "sockets/s bare",
            "sockets/s HTTP",
            "sockets/s HTTPS",
            "HTTP / bare",
            "HTTPS / HTTP",
            "p99 ms HTTP / HTTPS",
            "failed",
            "target",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
