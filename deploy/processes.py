"""The cluster's processes: started detached, one pid file each, stopped by that file alone.

A pid file is named `<name>-<port>.pid` in the run folder. Each process leads its own
session (process group), so stopping it also stops what it started (nginx's workers),
and nothing else: a pid file whose process is gone, or is now some other program, is
only removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_SECONDS = 15.0  # an app process flushes its audit buffer on SIGTERM
POLL_SECONDS = 0.1
# The boot time the kernel gives is in whole seconds.
START_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class Managed:
    """One process of the cluster, as its pid file records it."""

    name: str  # "nginx" or "app"
    port: int
    pid: int
    pid_file: Path

    @property
    def alive(self) -> bool:
        """Whether the pid still runs the process this file was written for: the same
        program, started before the file (pids come round again on a busy machine)."""
        try:
            command = Path(f"/proc/{self.pid}/cmdline").read_bytes()
            written = self.pid_file.stat().st_mtime
            started = _start_time(self.pid)
        except OSError:
            return False
        program = b"nginx" if self.name == "nginx" else b"app.py"
        return program in command and started <= written + START_SLACK_SECONDS


def _start_time(pid: int) -> float:
    """When `pid` started, in seconds since the epoch (to the kernel's clock tick)."""
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def spawn(name: str, port: int, command: Sequence[str], run_dir: Path, cwd: Path,
          env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `command` in its own session, output to `<name>-<port>.log` (this start's
    only); write its pid file."""
    with open(run_dir / f"{name}-{port}.log", "wb") as log:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter or nginx, no shell)
            list(command), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    (run_dir / f"{name}-{port}.pid").write_text(f"{process.pid}\n", encoding="ascii")
    return process


def recorded(run_dir: Path) -> list[Managed]:
    """Every process a pid file names, nginx first."""
    found = []
    for pid_file in sorted(run_dir.glob("*-*.pid")):
        name, _, port = pid_file.stem.rpartition("-")
        with contextlib.suppress(ValueError):
            found.append(Managed(name, int(port), int(pid_file.read_text()), pid_file))
    return sorted(found, key=lambda managed: (managed.name != "nginx", managed.port))


def stop(managed: Managed) -> None:
    """SIGTERM its process group, SIGKILL after STOP_SECONDS; remove the pid file."""
    if managed.alive:
        _signal_group(managed.pid, signal.SIGTERM)
        if not _wait_gone(managed, STOP_SECONDS):
            _signal_group(managed.pid, signal.SIGKILL)
            _wait_gone(managed, STOP_SECONDS)
    managed.pid_file.unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _wait_gone(managed: Managed, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _running(managed.pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _running(pid: int) -> bool:
    """Whether some thread of `pid` has not finished exiting. Not `alive`: an exiting
    process loses its command line before it closes its sockets."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            if (task / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                return True
    return False


def bindable(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (nothing holds it)."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def answers_health(url: str, context: object | None = None) -> bool:
    """Whether GET url/health answers 200 within a second."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1,  # noqa: S310  (http/https)
                                    context=context) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False
