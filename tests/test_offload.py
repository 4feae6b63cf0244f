"""Blocking work (Argon2, hashing a file) leaves the eventlet loop free for everyone else."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import eventlet
eventlet.monkey_patch()
{setup}
ticks = []
def ticker():
    while True:
        ticks.append(1)
        eventlet.sleep(0)
eventlet.spawn(ticker)
eventlet.sleep(0)
before = len(ticks)
{work}
print(len(ticks) - before)
"""

HASH_PASSWORDS = (
    "from security.passwords import PasswordService\nservice = PasswordService()",
    "for _ in range(5):\n    service.hash('una clave cualquiera')",
)
SCAN_BIG_FILE = (
    "import os, tempfile\n"
    "from nas.builtin_scanner import BuiltinScanner\n"
    "from security.offload import run_off_loop\n"
    "path = os.path.join(tempfile.mkdtemp(), 'big.bin')\n"
    "open(path, 'wb').write(os.urandom(32 * 1024 * 1024))",
    "run_off_loop(BuiltinScanner().scan_file, path)",
)


@pytest.mark.parametrize("setup,work", [HASH_PASSWORDS, SCAN_BIG_FILE], ids=["hash", "scan"])
def test_other_green_threads_keep_running_during_blocking_work(setup, work):
    """On the loop, the ticker could not run until the work ended; off it, it keeps ticking."""
    code = PROBE.format(setup=setup, work=work)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=".")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 5
