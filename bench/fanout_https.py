"""Benchmark: fan-out into one room over HTTPS, against the same PiChat over plain HTTP.

``python bench/fanout_https.py [--modes eventlet,gevent] [--sizes 200,500] [--no-deflate]``

For each async mode two PiChat servers run side by side, one with TLS=off (the
baseline) and one with TLS=auto (its own local CA; the clients trust that CA alone and
verify it). The measuring is bench/fanout.py's, unchanged: the rooms grow to N members
through the login form and take turns at the saturation phase (100 senders x 8/s) and the
latency phase (20 msg/s), three times each, the best run of each kept. Members behave like
browsers: session cookie, Origin header, and (unless --no-deflate) permessage-deflate
offered on the websocket; the header of each table says whether the server accepted it.

Target at N = 200 and 500: HTTPS deliveries/s >= 0.8x HTTP (best run against best run, as
bench/fanout.py compares), no message lost. Beside it, the median over the repeats of each
HTTPS run against the HTTP run just before it, for throughput and for server CPU per
delivery: on a machine shared with other work these paired figures move less.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fanout  # noqa: E402
from bench.common import (  # noqa: E402
    MODES,
    ServerProcess,
    add_bench_users,
    load,
    logged_in,
    percentile,
    pichat_server,
    print_table,
    raise_fd_limit,
    verdict,
)
from bench.roomload import Phase, pichat_target  # noqa: E402
from bench.sioclient import SioClient  # noqa: E402

SIZES = (200, 500)
# One more turn than bench/fanout.py: the two servers differ less than PiChat and bare do,
# so the noise of other load on the machine matters more.
REPEATS = 3
TARGET_THROUGHPUT = 0.8
# Source address of the account that asks each server whether it accepts permessage-deflate.
PROBE_INDEX = 240


async def accepts_deflate(server: ServerProcess) -> bool:
    """Whether the server accepts permessage-deflate from a browser-like client."""
    (name,) = add_bench_users(server, "sonda", 1)
    http = await logged_in(server.url, name, PROBE_INDEX, server.client_ssl())
    try:
        client = await SioClient(http, server.url, events=frozenset(), deflate=True).connect()
        await client.close()
        return client.deflated
    finally:
        await http.close()


def cpu_per_delivery(phase: Phase) -> float:
    """Server CPU seconds per delivery in one saturation run."""
    return phase.server_cpu / max(1, phase.delivered)


def paired(http: fanout.Runs, tls: fanout.Runs) -> tuple[float, float]:
    """HTTPS / HTTP deliveries/s and server CPU per delivery, medians over paired runs.

    Each HTTPS run is paired with the HTTP run just before it (its neighbour in time).
    """
    pairs = list(zip(http.saturated, tls.saturated, strict=True))
    return (
        statistics.median(t.per_second / h.per_second for h, t in pairs),
        statistics.median(cpu_per_delivery(t) / cpu_per_delivery(h) for h, t in pairs),
    )


def ratios(
    mode: str, results: fanout.Measured, sizes: list[int], plain: str, tls: str
) -> list[list[object]]:
    """HTTPS against HTTP, per size: throughput ratios, both p50 and p99, lost, verdict."""
    rows = []
    for size in sizes:
        (http_sat, http_lat), (tls_sat, tls_lat) = (
            results[plain, size].best(),
            results[tls, size].best(),
        )
        throughput = tls_sat.per_second / http_sat.per_second
        median_throughput, cost = paired(results[plain, size], results[tls, size])
        lost = results[plain, size].lost() + results[tls, size].lost()
        http_ms = [1e3 * percentile(http_lat.latencies(), q) for q in (0.5, 0.99)]
        tls_ms = [1e3 * percentile(tls_lat.latencies(), q) for q in (0.5, 0.99)]
        rows.append(
            [
                mode,
                size,
                http_sat.per_second,
                tls_sat.per_second,
                f"{throughput:.2f}x",
                f"{median_throughput:.2f}x",
                f"{http_ms[0]:.1f} / {tls_ms[0]:.1f}",
                f"{http_ms[1]:.1f} / {tls_ms[1]:.1f}",
                f"{cost:.2f}x",
                lost,
                verdict(throughput >= TARGET_THROUGHPUT and lost == 0),
            ]
        )
    return rows


def run_mode(
    mode: str, sizes: list[int], seconds: float, repeats: int, deflate: bool
) -> list[list[object]]:
    """Start PiChat over HTTP and over HTTPS in `mode`, measure both, print the detail."""
    with pichat_server(mode) as plain, pichat_server(mode, tls=True) as tls:
        accounts = min(max(sizes), fanout.ACCOUNTS)
        targets = [pichat_target(server, accounts, deflate=deflate) for server in (plain, tls)]
        negotiated = [asyncio.run(accepts_deflate(server)) for server in (plain, tls)]
        results = asyncio.run(fanout.compare(targets, sizes, seconds, repeats))
    rows = [
        fanout.row(label, size, results[label, size])
        for size in sizes
        for label in (plain.name, tls.name)
    ]
    offered = (
        "deflate offered, accepted by HTTP/HTTPS: "
        + "/".join("yes" if accepted else "no" for accepted in negotiated)
        if deflate
        else "deflate not offered"
    )
    print_table(
        f"Fan-out into a password room, {mode}, HTTP vs HTTPS ({offered}): saturation "
        f"({fanout.SATURATION_SENDERS} senders x 8/s) and latency at {fanout.LATENCY_RATE} "
        f"msg/s, best of {repeats} alternating {seconds:g}-s runs; {load()}",
        fanout.HEADERS,
        rows,
    )
    return ratios(mode, results, sizes, plain.name, tls.name)


def main() -> None:
    """Parse the options, run every mode and print HTTPS / HTTP against the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seconds", type=float, default=fanout.PHASE_SECONDS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    options = parser.parse_args()
    raise_fd_limit()
    sizes = [int(size) for size in options.sizes.split(",")]
    deflate = not options.no_deflate
    ratio_rows = []
    for mode in options.modes.split(","):
        ratio_rows += run_mode(mode, sizes, options.seconds, options.repeats, deflate)
    print_table(
        f"Fan-out ratios, HTTPS / HTTP (target: deliveries/s >= {TARGET_THROUGHPUT}x, 0 lost; "
        f"{'deflate offered' if deflate else 'no deflate'})",
        [
            "mode",
            "N",
            "deliv/s HTTP",
            "deliv/s HTTPS",
            "ratio",
            "paired",
            "p50 ms HTTP / HTTPS",
            "p99 ms HTTP / HTTPS",
            "srv µs/deliv paired",
            "lost",
            "target",
        ],
        ratio_rows,
    )


if __name__ == "__main__":
    main()
