"""The quarantine's disk filling up mid-upload on a real `python app.py` (issue 12): 507
with a clear message, no half-written file and no row, and the chat keeps working."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.reliability.live_faults import MIB, file_rows, tracebacks, upload, uploads_kept
from tests.services import require_service
from tests.test_chat_live import LiveChat

DISK = "2m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A server root whose quarantine folder is a 2 MB tmpfs (mounting needs root, as in CI)."""
    root = tmp_path / "server"
    (root / "cuarentena").mkdir(parents=True)
    if os.geteuid() != 0:
        require_service("mounting a small tmpfs as the quarantine needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs",
         str(root / "cuarentena")], capture_output=True, text=True, timeout=10)
    if mounted.returncode != 0:
        require_service(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root / "cuarentena")], check=True, timeout=10)


def test_a_disk_that_fills_mid_upload_answers_507_and_keeps_chatting(small_disk):
    # MIN_FREE_DISK_MB=0: the upload gets past the free-space check and meets the full disk.
    server = LiveServer(small_disk, MIN_FREE_DISK_MB="0").start()
    try:
        http = server.session("cliente")
        full = upload(server, http, "enorme.txt", b"x" * (3 * MIB))
        assert (full.status_code, full.json()["error"]) == (507, "disk_full"), full.text
        assert "sin espacio en disco" in full.json()["message"]
        assert uploads_kept(small_disk) == [] and file_rows(small_disk) == {}

        person = LiveChat(server, "cliente", http).connect()
        try:
            assert person.call("send_message", {"room": "lobby", "text": "¿sigue?"})["ok"]
        finally:
            person.sio.disconnect()
        fits = upload(server, http, "cabe.txt", b"y" * (MIB // 2))
        assert fits.status_code == 201, fits.text
        assert tracebacks(server) == []
    finally:
        server.stop()
