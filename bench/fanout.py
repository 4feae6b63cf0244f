"""Benchmark: fan-out into one room, PiChat against the bare Flask-SocketIO server.

``python bench/fanout.py [--modes eventlet,gevent] [--sizes 50,200,500] [--lobby]``

For each async mode both servers run side by side; for each room size N both rooms grow
to N members (PiChat: up to 100 accounts logged in through the form, several sockets
each, every socket joining one room with its password) and are measured in turns, each
phase twice, the best run of each kept:

- saturation: up to 100 members each send 8 messages/s, under PiChat's per-connection
  limit (10/s, burst 20), with at most 4000/N messages in flight. Deliveries/s, and
  the server's CPU per delivery (the figure least disturbed by other load).
- latency: 20 messages/s into the room (20 senders, 1/s each); p50/p95/p99 delivery.

Targets at N = 200 and 500: PiChat deliveries/s >= 0.8x bare, p99 <= 1.5x bare, 0 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    MODES,
    bare_server,
    load,
    percentile,
    pichat_server,
    print_table,
    raise_fd_limit,
    verdict,
)
from bench.roomload import Phase, Room, Target, bare_target, pichat_target  # noqa: E402

SIZES = (50, 200, 500)
SATURATION_SENDERS = 100
# PiChat members share this many accounts (up to 5 sockets each at N = 500), so setting
# up is 100 logins, not 500; every socket still joins the room with its password.
ACCOUNTS = 100
SATURATION_INTERVAL = 1 / 8
IN_FLIGHT_DELIVERIES = 4000
LATENCY_RATE = 20
LATENCY_SENDERS = 20
# Each phase is short and repeated, the targets taking turns, and the best run of each
# is kept: other load on the machine then spoils one run, not the comparison.
PHASE_SECONDS = 1.5
REPEATS = 2
TARGET_SIZES = (200, 500)
TARGET_THROUGHPUT = 0.8
TARGET_P99 = 1.5


@dataclass
class Runs:
    """Every phase one target ran at one size; the table shows the best of the repeats."""

    joined: float
    saturated: list[Phase] = field(default_factory=list)
    paced: list[Phase] = field(default_factory=list)

    def best(self) -> tuple[Phase, Phase]:
        """The saturation run with most deliveries/s and the latency run with the lowest p99."""
        return (
            max(self.saturated, key=lambda phase: phase.per_second),
            min(self.paced, key=lambda phase: percentile(phase.latencies(), 0.99)),
        )

    def lost(self) -> int:
        """Messages lost in any run."""
        return sum(phase.lost for phase in self.saturated + self.paced)

    def refused(self) -> int:
        """Sends refused (rate limit or error) in any run."""
        return sum(phase.refused for phase in self.saturated + self.paced)


Measured = dict[tuple[str, int], Runs]


async def measure(room: Room, runs: Runs, size: int, seconds: float) -> None:
    """Run the saturation and the latency phase once more on a room of `size`."""
    window = max(2, IN_FLIGHT_DELIVERIES // size)
    senders = min(size, SATURATION_SENDERS)
    runs.saturated.append(await room.run(senders, SATURATION_INTERVAL, seconds, window))
    runs.paced.append(await room.run(LATENCY_SENDERS, LATENCY_SENDERS / LATENCY_RATE, seconds))


async def compare(
    targets: list[Target], sizes: list[int], seconds: float, repeats: int
) -> Measured:
    """Measure every target at every size, the targets taking turns within each size."""
    rooms = [Room(target) for target in targets]
    results: Measured = {}
    try:
        for size in sizes:
            for room in rooms:
                results[room.target.label, size] = Runs(await room.grow(size))
            for _ in range(repeats):
                for room in rooms:
                    await measure(room, results[room.target.label, size], size, seconds)
    finally:
        await asyncio.gather(*(room.close() for room in rooms))
    return results


def row(label: str, size: int, runs: Runs) -> list[object]:
    """One table row for one target and size."""
    saturated, paced = runs.best()
    latencies = paced.latencies()
    return [
        label,
        size,
        round(runs.joined, 1),
        saturated.per_second,
        f"{100 * saturated.server_cpu / saturated.seconds:.0f}%",
        1e6 * saturated.server_cpu / max(1, saturated.delivered),
        f"{100 * saturated.client_cpu / saturated.seconds:.0f}%",
        *(1e3 * percentile(latencies, q) for q in (0.5, 0.95, 0.99)),
        runs.lost(),
        runs.refused(),
    ]


HEADERS = [
    "server",
    "N",
    "join s",
    "deliv/s",
    "srv CPU",
    "srv µs/deliv",
    "client CPU",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "lost",
    "refused",
]


def ratios(mode: str, results: Measured, sizes: list[int]) -> list[list[object]]:
    """PiChat against bare, per size: throughput and p99 ratios with their verdicts."""
    rows = []
    for size in sizes:
        bare, pichat = results[f"bare/{mode}", size], results[f"PiChat/{mode}", size]
        (bare_sat, bare_lat), (pi_sat, pi_lat) = bare.best(), pichat.best()
        throughput = pi_sat.per_second / bare_sat.per_second
        p99 = percentile(pi_lat.latencies(), 0.99) / percentile(bare_lat.latencies(), 0.99)
        cost = (pi_sat.server_cpu / max(1, pi_sat.delivered)) / (
            bare_sat.server_cpu / max(1, bare_sat.delivered)
        )
        lost = bare.lost() + pichat.lost()
        met = throughput >= TARGET_THROUGHPUT and p99 <= TARGET_P99 and lost == 0
        rows.append(
            [
                mode,
                size,
                f"{throughput:.2f}x",
                f"{p99:.2f}x",
                f"{cost:.2f}x",
                lost,
                verdict(met) if size in TARGET_SIZES else "-",
            ]
        )
    return rows


def run_mode(
    mode: str, sizes: list[int], seconds: float, repeats: int, lobby: bool
) -> list[list[object]]:
    """Start both servers in `mode`, measure, print the table; return the ratio rows."""
    with bare_server(mode) as bare, pichat_server(mode) as pichat:
        targets = [bare_target(bare), pichat_target(pichat, min(max(sizes), ACCOUNTS), lobby)]
        results = asyncio.run(compare(targets, sizes, seconds, repeats))
    rows = [
        row(label, size, results[label, size])
        for size in sizes
        for label in (f"bare/{mode}", f"PiChat/{mode}")
    ]
    room = "the lobby" if lobby else "a password room"
    print_table(
        f"Fan-out into {room}, {mode}: saturation ({SATURATION_SENDERS} senders x 8/s, "
        f"PiChat limit 10/s on) and latency at {LATENCY_RATE} msg/s, best of {repeats} "
        f"alternating {seconds:g}-s runs; {load()}",
        HEADERS,
        rows,
    )
    return ratios(mode, results, sizes)


def main() -> None:
    """Parse the options, run every mode and print the ratios against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seconds", type=float, default=PHASE_SECONDS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--lobby", action="store_true", help="use the lobby, not a password room")
    options = parser.parse_args()
    raise_fd_limit()
    sizes = [int(size) for size in options.sizes.split(",")]
    ratio_rows = []
    for mode in options.modes.split(","):
        ratio_rows += run_mode(mode, sizes, options.seconds, options.repeats, options.lobby)
    print_table(
        f"Fan-out ratios, PiChat / bare (targets at N = {', '.join(map(str, TARGET_SIZES))}: "
        f"deliveries/s >= {TARGET_THROUGHPUT}x, p99 <= {TARGET_P99}x, 0 lost)",
        ["mode", "N", "deliv/s", "p99", "srv µs/deliv", "lost", "target"],
        ratio_rows,
    )


if __name__ == "__main__":
    main()
