"""Run every benchmark (what `make bench` runs), each in its own process, within 5 minutes.

Each script prints its own table and verdicts; this prints the machine first and how
long each script took last. A script that overruns its share of the time is stopped
with its whole process group, so no server subprocess outlives the run.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.common import load  # noqa: E402

# In the order they run; a script another issue has not delivered yet is skipped.
SCRIPTS = ("fanout.py", "login_storm.py", "idle.py", "upload.py", "audit_logger.py")
BUDGET_SECONDS = 300.0
MIN_SHARE_SECONDS = 20.0


def machine() -> str:
    """The CPU, cores, Python and current load, for the record."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {load()}"
    )


def run(script: Path, timeout: float) -> int:
    """Run one script in its own process group; stop the group on timeout or Ctrl-C."""
    child = subprocess.Popen(
        [sys.executable, str(script)], cwd=BENCH.parent, start_new_session=True
    )
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"\n{script.name}: stopped after {timeout:.0f} s (over its time budget)")
        stop_group(child, signal.SIGINT)
        return -1
    except KeyboardInterrupt:
        stop_group(child, signal.SIGINT)
        raise


def stop_group(child: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the child's process group, then kill it if it does not end in 10 s."""
    os.killpg(child.pid, sig)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def main() -> None:
    """Run every present script in order and print a summary."""
    print(f"PiChat benchmarks on {machine()}", flush=True)
    started = time.monotonic()
    summary = []
    scripts = [BENCH / name for name in SCRIPTS if (BENCH / name).exists()]
    for number, script in enumerate(scripts):
        left = BUDGET_SECONDS - (time.monotonic() - started)
        # Leave each later script at least its minimum share of what remains.
        share = max(MIN_SHARE_SECONDS, left - MIN_SHARE_SECONDS * (len(scripts) - number - 1))
        print(f"\n=== {script.name} ===", flush=True)
        begun = time.monotonic()
        code = run(script, share)
        summary.append((script.name, time.monotonic() - begun, code))
    print("\n=== summary ===")
    for name, seconds, code in summary:
        print(f"{name:>16}  {seconds:6.1f} s  {'ok' if code == 0 else f'exit {code}'}")
    print(f"{'total':>16}  {time.monotonic() - started:6.1f} s   ({load()})")
    sys.exit(0 if all(code == 0 for *_, code in summary) else 1)


if __name__ == "__main__":
    main()
