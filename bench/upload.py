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

import base64
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import CSRF_META  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

MIB = 1024 * 1024
SIZE = 16 * MIB
SEQUENTIAL = 8
# Between timed uploads: the background scan of the previous one finishes first, so each
# figure is the upload alone (the concurrent phase measures them overlapping).
PAUSE_SECONDS = 0.5
CONCURRENT = 10
TARGET_GROWTH_MIB = 64


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
    """POSTs files to the server as a logged-in administrator."""

    def __init__(self, server: LiveServer) -> None:
        self.http = server.session("admin", "admin123")
        self.url = f"{server.url}/api/files"
        page = self.http.get(f"{server.url}/files", timeout=10).text
        self.token = CSRF_META.search(page).group(1)

    def seconds(self, data: bytes, name: str = "bench.txt") -> float:
        """Time one upload; raise unless the server answered 201."""
        started = time.perf_counter()
        answer = requests.post(self.url, cookies=self.http.cookies, timeout=120,
                               headers={"X-CSRFToken": self.token},
                               files={"file": (name, data, "text/plain")})
        elapsed = time.perf_counter() - started
        if answer.status_code != 201:
            raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:200]}")
        return elapsed


def memory_kib(pid: int, field: str) -> int:
    """One memory figure (VmRSS, VmHWM) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def concurrent_peak_kib(pid: int, uploader: Uploader, data: bytes) -> tuple[int, float]:
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
    with ThreadPoolExecutor(CONCURRENT) as pool:
        list(pool.map(lambda n: uploader.seconds(data, f"bench{n}.txt"), range(CONCURRENT)))
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return max(max(peak), memory_kib(pid, "VmHWM")), wall


def main() -> None:
    """Run both measurements and print the figures."""
    data = payload()
    with tempfile.TemporaryDirectory(prefix="pichat-bench-") as tmp:
        root = Path(tmp)
        server = LiveServer(root / "server", RATELIMIT_ENABLED="false").start()
        try:
            pid = server.process.pid
            uploader = Uploader(server)
            uploader.seconds(data, "warmup.txt")
            time.sleep(1.0)  # let the background scan of the warm-up file finish
            idle = memory_kib(pid, "VmRSS")
            app_times, raw_times = [], []
            for _ in range(SEQUENTIAL):
                time.sleep(PAUSE_SECONDS)
                app_times.append(uploader.seconds(data))
                raw_times.append(raw_copy_seconds(data, root))
            time.sleep(1.0)
            idle = min(idle, memory_kib(pid, "VmRSS"))
            peak, wall = concurrent_peak_kib(pid, uploader, data)
        finally:
            server.stop()
    report(app_times, raw_times, idle, peak, wall)


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
