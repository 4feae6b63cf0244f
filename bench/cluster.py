"""Benchmark: a room of 500 spread over two processes behind nginx, against one process.

``python bench/cluster.py [--mode eventlet] [--members 500] [--seconds 3] [--repeats 3]``

Two targets in the same run, measured in turns: one `python app.py` as installed by
default (SQLite, no Redis), and deploy/cluster.sh's cluster (nginx in front of two
processes, a fresh database on the machine's PostgreSQL, a redis-server of its own).
Members are 100 accounts with several sockets each, every account from its own loopback
address, so nginx's `hash $remote_addr` spreads them over both processes. 20 messages a
second go into the room (20 senders, one a second each); every delivery to every member
is timed. Target: no message lost; the cluster's p99 is stated against one process's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_hex
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import roomload  # noqa: E402
from bench.common import (  # noqa: E402
    BENCH_PASSWORD,
    ROOT,
    free_port,
    load,
    percentile,
    pichat_server,
    print_table,
    raise_fd_limit,
    verdict,
)
from bench.roomload import Phase, Room, Target, pichat_target  # noqa: E402
from deploy.processes import bindable  # noqa: E402

ACCOUNTS = 100
RATE, SENDERS = 20, 20
POSTGRES = os.environ.get("PICHAT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
START_SECONDS = 120


class ClusterProcess:
    """deploy/cluster.sh's cluster, shaped like bench/common.py's ServerProcess."""

    def __init__(self, mode: str, database_url: str, redis_url: str) -> None:
        self.name = f"cluster/{mode}"
        self.root = Path(tempfile.mkdtemp(prefix="pichat-bench-cluster-"))
        self.port = _ports_in_a_row(3)
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.env = {
            **os.environ, "PICHAT_ENV": "development", "PICHAT_ASYNC_MODE": mode,
            "HOST": "127.0.0.1", "PORT": str(self.port), "CLUSTER_PROCESSES": "2",
            "MAX_CONNECTIONS": "10000", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "INSTANCE_DIR": str(self.root / "instance"), "LOG_DIR": str(self.root / "logs"),
            "QUARANTINE_DIR": str(self.root / "cuarentena"),
        }
        for name in ("CLAMD_SOCKET", "CLAMD_HOST", "TLS", "TLS_CERT", "TLS_KEY", "DEBUG"):
            self.env.pop(name, None)

    def _script(self, command: str) -> None:
        done = subprocess.run([str(ROOT / "deploy" / "cluster.sh"), command], env=self.env,
                              capture_output=True, text=True, timeout=START_SECONDS)
        if done.returncode != 0:
            raise RuntimeError(f"cluster.sh {command}: {done.stderr.strip()}")

    def __enter__(self) -> ClusterProcess:
        self._script("start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._script("stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def client_ssl(self) -> None:
        """Plain HTTP: no CA to trust."""
        return None

    def pids(self) -> list[int]:
        """The app processes' pids."""
        run = self.root / "instance" / "run"
        return [int(path.read_text()) for path in run.glob("app-*.pid")]

    def cpu_seconds(self) -> float:
        """User + system CPU of both app processes so far."""
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


def _ports_in_a_row(count: int) -> int:
    """A port P with P..P+count-1 all free (nginx, then the app processes)."""
    while True:
        first = free_port()
        if all(bindable("127.0.0.1", first + n) for n in range(1, count)):
            return first


@contextmanager
def own_services() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database and a redis-server on a free port, removed after."""
    import psycopg

    name, redis_port = f"pichat_bench_{token_hex(4)}", free_port()
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        base = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
        yield f"{base}/{name}", f"redis://127.0.0.1:{redis_port}/0"
    finally:
        redis.terminate()
        redis.wait(timeout=10)
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_postgres_users(cluster: ClusterProcess, prefix: str, count: int) -> list[str]:
    """bench/common.py's add_bench_users, into the cluster's PostgreSQL database."""
    import psycopg

    from security.passwords import PasswordService

    password_hash = PasswordService().hasher.hash(BENCH_PASSWORD)
    names = [f"{prefix}{index:05d}" for index in range(count)]
    now = datetime.now(UTC)
    url = cluster.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as db, db.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO users (username, password_hash, role, active, session_token,"
            " failed_logins, created_at) VALUES (%s, %s, 'usuario', true, %s, 0, %s)",
            [(name, password_hash, token_hex(16), now) for name in names])
    return names


async def compare(targets: list[Target], members: int, seconds: float,
                  repeats: int) -> dict[str, list[Phase]]:
    """Grow a room of `members` on each target, then run the paced phase in turns."""
    rooms = [Room(target) for target in targets]
    runs: dict[str, list[Phase]] = {target.label: [] for target in targets}
    try:
        for room in rooms:
            await room.grow(members)
        for _ in range(repeats):
            for room in rooms:
                runs[room.target.label].append(await room.run(SENDERS, SENDERS / RATE, seconds))
    finally:
        await asyncio.gather(*(room.close() for room in rooms))
    return runs


def spread(cluster: ClusterProcess) -> str:
    """How many of the room's sockets each process holds, from nginx's access log."""
    log = cluster.root / "instance" / "run" / "nginx-access.log"
    counts: dict[str, int] = {}
    for line in log.read_text().splitlines():
        if "transport=websocket" in line and " 101 " in line:
            upstream = line.rsplit("upstream=", 1)[1]
            counts[upstream] = counts.get(upstream, 0) + 1
    return " / ".join(str(count) for _, count in sorted(counts.items()))


def main() -> None:
    """Run both targets, print the table and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="eventlet")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    raise_fd_limit()
    started = time.monotonic()
    with own_services() as (database_url, redis_url), \
            pichat_server(options.mode) as single, \
            ClusterProcess(options.mode, database_url, redis_url) as cluster:
        names = add_postgres_users(cluster, "fan", ACCOUNTS)
        targets = [pichat_target(single, ACCOUNTS), cluster_target(cluster, names)]
        runs = asyncio.run(compare(targets, options.members, options.seconds, options.repeats))
        sockets = spread(cluster)
    report(runs, options, sockets, time.monotonic() - started)


def cluster_target(cluster: ClusterProcess, names: list[str]) -> Target:
    """roomload's PiChat target (logins through the form, the room joined with its password)
    on the cluster, whose accounts are already in PostgreSQL, not in an SQLite file."""
    with mock.patch.object(roomload, "add_bench_users", return_value=names):
        return pichat_target(cluster, len(names))


def report(runs: dict[str, list[Phase]], options: argparse.Namespace, sockets: str,
           took: float) -> None:
    """The table: best p99 of each target over the repeats, every loss counted."""
    rows, p99s, lost = [], {}, 0
    for label, phases in runs.items():
        best = min(phases, key=lambda phase: percentile(phase.latencies(), 0.99))
        latencies = best.latencies()
        p99s[label] = percentile(latencies, 0.99)
        lost += sum(phase.lost for phase in phases)
        rows.append([label, options.members, *(1e3 * percentile(latencies, q)
                                              for q in (0.5, 0.95, 0.99)),
                     sum(phase.lost for phase in phases),
                     sum(phase.refused for phase in phases)])
    single, cluster = p99s.values()
    print_table(f"{RATE} msg/s into {options.members} members, {options.mode}, best p99 of "
                f"{options.repeats} alternating {options.seconds:g}-s runs; sockets per "
                f"process in the cluster: {sockets}; {load()}",
                ["server", "N", "p50 ms", "p95 ms", "p99 ms", "lost", "refused"], rows)
    print(f"\ncluster p99 / one process p99: {cluster / single:.2f}x; "
          f"no message lost: {verdict(lost == 0)} ({took:.0f} s)")
    sys.exit(0 if lost == 0 else 1)


if __name__ == "__main__":
    main()
