"""Benchmark: AuditLogger.log() against a bare csv.writer on the same disk.

Run ``python bench/audit_logger.py``. For 1 and 8 threads it measures events/s (the
logger is closed inside the timing, so every flush counts) and the median cost of one
call, timed call by call. Targets: median log() <= 3x the bare median writerow, and at
least 100,000 events/s with one thread.
"""

import csv
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from logging_.audit_logger import AuditLogger  # noqa: E402

EVENTS_PER_THREAD = {1: 200_000, 8: 25_000}
TARGET_RATIO = 3.0
TARGET_EVENTS_PER_S = 100_000

Result = tuple[float, list[int]]


def _row(thread: int, index: int) -> tuple[str, ...]:
    return ("login_success", "alice", "192.168.1.20", "room:general", "ok", f"t{thread}-{index}")


def _run(
    threads: int, per_thread: int, call: Callable[..., None], done: Callable[[], None]
) -> Result:
    """Run ``call`` from ``threads`` threads; return (events/s, sampled call costs in ns)."""
    samples: list[list[int]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)

    def work(thread: int) -> None:
        costs = samples[thread]
        clock = time.perf_counter_ns
        start.wait()
        for index in range(per_thread):
            row = _row(thread, index)
            before = clock()
            call(*row)
            costs.append(clock() - before)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    done()
    elapsed = time.perf_counter() - began
    return threads * per_thread / elapsed, [c for costs in samples for c in costs]


def bench_logger(folder: str, threads: int, per_thread: int) -> Result:
    """Measure AuditLogger with default buffering, closed (fully flushed) at the end."""
    logger = AuditLogger(folder, b"bench-key", filename=f"audit-{threads}.csv")

    def call(event, user, ip, target, outcome, detail):
        logger.log(event, user=user, ip=ip, target=target, outcome=outcome, detail=detail)

    return _run(threads, per_thread, call, logger.close)


def bench_bare(folder: str, threads: int, per_thread: int) -> Result:
    """Measure csv.writer.writerow of the same rows plus a timestamp (locked if threaded)."""
    stream = open(os.path.join(folder, f"bare-{threads}.csv"), "w", newline="")  # noqa: SIM115
    writer = csv.writer(stream)
    lock = threading.Lock()

    def call(*row):
        writer.writerow((time.time_ns(), *row))

    def locked_call(*row):
        with lock:
            writer.writerow((time.time_ns(), *row))

    return _run(threads, per_thread, call if threads == 1 else locked_call, stream.close)


def main() -> int:
    """Print the table and the ratios; exit 1 when a target is missed."""
    print(f"{'threads':>7} {'writer':>13} {'events/s':>12} {'median call':>12} {'p99 call':>10}")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for threads, per_thread in EVENTS_PER_THREAD.items():
            results = {}
            for name, bench in (("csv.writer", bench_bare), ("AuditLogger", bench_logger)):
                rate, costs = bench(folder, threads, per_thread)
                results[name] = (rate, statistics.median(costs))
                p99 = statistics.quantiles(costs, n=100)[98]
                print(
                    f"{threads:>7} {name:>13} {rate:>12,.0f}"
                    f" {results[name][1]:>10,.0f}ns {p99:>8,.0f}ns"
                )
            ratio = results["AuditLogger"][1] / results["csv.writer"][1]
            speed = results["AuditLogger"][0] / results["csv.writer"][0]
            print(f"{'':>7} median log()/writerow = {ratio:.2f}x, events/s ratio = {speed:.2f}x")
            failed |= ratio > TARGET_RATIO
            if threads == 1:
                failed |= results["AuditLogger"][0] < TARGET_EVENTS_PER_S
    print("targets:", "MISSED" if failed else "met", f"(median <= {TARGET_RATIO}x,", end=" ")
    print(f">= {TARGET_EVENTS_PER_S:,} events/s single-threaded)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
