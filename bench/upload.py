"""Upload benchmark: 16 MiB uploads through a live server against a raw copy, and server RSS.

It starts a real ``python app.py`` (eventlet, built-in scanner, rate limits off), then:

1. times SEQUENTIAL uploads of 16 MiB through POST /api/files, each followed by the same
   bytes written (and fsynced, as the quarantine does) to a file on the same disk, and
   prints the ratio of the medians;
2. measures the server's resident memory idle and at its peak while CONCURRENT uploads of
   16 MiB run at once (peak: VmHWM after resetting it, and VmRSS sampled every 5 ms).

Run: ``.venv/bin/python bench/upload.py`` (about 20-60 s). Not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import base64
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CSRF_META,
    ServerProcess,
    http_session,
    login_form,
    pichat_server,
    post_login,
)

MIB = 1024 * 1024
SIZE = 16 * MIB
SEQUENTIAL = 8
# Between timed uploads: the background scan of the previous one finishes first, so each
# figure is the upload alone (the concurrent phase measures them overlapping).
PAUSE_SECONDS = 0.5
CONCURRENT = 10
TARGET_GROWTH_MIB = 64
# Seconds of each sequential upload and raw copy; idle and peak RSS (KiB); concurrent wall time.
Figures = tuple[list[float], list[float], int, int, float]
ADMIN = ("admin", "admin123")  # the development server's demo administrator


def payload() -> bytes:
    """16 MiB of random text (base64), which the type check admits as text/plain."""
    return base64.b64encode(os.urandom(SIZE))[:SIZE]


def raw_copy_seconds(data: bytes, directory: Path) -> float:
    """Seconds to write ``data`` to a new file in ``directory`` and fsync it."""
    path = directory / "raw-copy.bin"
    started = time.perf_counter()
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - started
    path.unlink()
    return elapsed


class Uploader:
    """POSTs files to the server as the logged-in demo administrator."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self.http, self.url, self.token = http, f"{url}/api/files", token

    @classmethod
    async def log_in(cls, url: str) -> Uploader:
        """Log in through the form and read the files page's CSRF token."""
        http = http_session()
        try:
            username, password = ADMIN
            await post_login(http, url, username, await login_form(http, url), password)
            async with http.get(f"{url}/files") as page:
                return cls(http, url, CSRF_META.search(await page.text()).group(1))
        except BaseException:
            await http.close()
            raise

    async def seconds(self, data: bytes, name: str = "bench.txt") -> float:
        """Time one upload; raise unless the server answered 201."""
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="text/plain")
        started = time.perf_counter()
        headers = {"X-CSRFToken": self.token}
        async with self.http.post(self.url, data=form, headers=headers) as answer:
            text = await answer.text()
        elapsed = time.perf_counter() - started
        if answer.status != 201:
            raise RuntimeError(f"upload answered {answer.status}: {text[:200]}")
        return elapsed


def memory_kib(pid: int, field: str) -> int:
    """One memory figure (VmRSS, VmHWM) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


async def concurrent_peak_kib(pid: int, uploader: Uploader, data: bytes) -> tuple[int, float]:
    """Peak RSS (KiB) of ``pid`` while CONCURRENT uploads run at once, and their wall time."""
    # Writing 5 to clear_refs resets VmHWM, so it measures this phase alone.
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    peak, done = [memory_kib(pid, "VmRSS")], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(memory_kib(pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(uploader.seconds(data, f"bench{n}.txt") for n in range(CONCURRENT)))
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - started
    return max(max(peak), memory_kib(pid, "VmHWM")), wall


async def measure(server: ServerProcess, data: bytes) -> Figures:
    """Both measurements on a running server."""
    pid = server.process.pid
    uploader = await Uploader.log_in(server.url)
    try:
        await uploader.seconds(data, "warmup.txt")
        await asyncio.sleep(1.0)  # let the background scan of the warm-up file finish
        idle = memory_kib(pid, "VmRSS")
        app_times, raw_times = [], []
        for _ in range(SEQUENTIAL):
            await asyncio.sleep(PAUSE_SECONDS)
            app_times.append(await uploader.seconds(data))
            raw_times.append(raw_copy_seconds(data, server.root))
        await asyncio.sleep(1.0)
        idle = min(idle, memory_kib(pid, "VmRSS"))
        peak, wall = await concurrent_peak_kib(pid, uploader, data)
    finally:
        await uploader.http.close()
    return app_times, raw_times, idle, peak, wall


def main() -> None:
    """Run both measurements and print the figures."""
    data = payload()
    with pichat_server("eventlet", RATELIMIT_ENABLED="false") as server:
        figures = asyncio.run(measure(server, data))
    report(*figures)


def report(app_times: list[float], raw_times: list[float], idle: int, peak: int,
           wall: float) -> None:
    """Print throughput, ratio and memory."""
    app_s, raw_s = statistics.median(app_times), statistics.median(raw_times)
    growth = (peak - idle) / 1024
    print(f"16 MiB upload through the app: median {app_s * 1000:6.1f} ms "
          f"({SIZE / MIB / app_s:5.1f} MiB/s), best {min(app_times) * 1000:6.1f} ms")
    print(f"16 MiB raw write + fsync:      median {raw_s * 1000:6.1f} ms "
          f"({SIZE / MIB / raw_s:5.1f} MiB/s), best {min(raw_times) * 1000:6.1f} ms")
    print(f"ratio app / raw (medians):     {app_s / raw_s:5.1f}x "
          f"({SEQUENTIAL} of each, interleaved)")
    print(f"{CONCURRENT} uploads of 16 MiB at once:   {wall:7.2f} s wall "
          f"({CONCURRENT * SIZE / MIB / wall:6.1f} MiB/s total)")
    print(f"server RSS idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
          f"growth {growth:.1f} MiB (target <= {TARGET_GROWTH_MIB} MiB; "
          f"sum of uploads {CONCURRENT * SIZE // MIB} MiB): "
          f"{'OK' if growth <= TARGET_GROWTH_MIB else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
