"""clamd killed while a real `python app.py` waits for its verdict: the file stays pending,
is never served meanwhile, and becomes clean once clamd is back (issue 12)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer
from tests.reliability.live_faults import file_rows, upload, wait_until
from tests.services import ClamdDaemon, start_clamd

TEXT = b"acta de la reunion\n"
# Flags of clamd's own listening socket in /proc/net/unix (__SO_ACCEPTCON).
LISTENING = "00010000"


@pytest.fixture
def own_clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdDaemon]:
    """A clamd of this test's own (the session's is shared, and this test kills it);
    a short folder, as a unix socket path must fit in 108 bytes."""
    daemon = start_clamd(tmp_path_factory.mktemp("clamd-kill"))
    yield daemon
    daemon.stop()


def callers_waiting(socket_path: str) -> int:
    """Connections to `socket_path` that clamd has taken or left in its backlog."""
    lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    return sum(1 for line in lines
               if line.endswith(" " + socket_path) and line.split()[3] != LISTENING)


def test_clamd_killed_mid_scan_keeps_the_file_pending_until_it_is_back(tmp_path, own_clamd):
    root = tmp_path / "server"
    server = LiveServer(root, CLAMD_SOCKET=own_clamd.socket, SCAN_RETRY_SECONDS="1").start()
    try:
        clamd_pid = int((own_clamd.workdir / "clamd.pid").read_text())
        os.kill(clamd_pid, signal.SIGSTOP)  # it takes the scan's call but never answers
        http = server.session("cliente")
        answer = upload(server, http, "acta.txt", TEXT)
        assert answer.status_code == 201, answer.text
        file_id = answer.json()["id"]
        wait_until(lambda: callers_waiting(own_clamd.socket), "PiChat asks clamd for a verdict")
        os.kill(clamd_pid, signal.SIGKILL)

        wait_until(lambda: file_rows(root)[file_id][1] >= 1, "the failed scan is counted")
        assert file_rows(root)[file_id][0] == "pending"
        download = f"{server.url}/api/files/{file_id}/download"
        refused = http.get(download, timeout=10)
        assert (refused.status_code, refused.json()["error"]) == (409, "pending")

        own_clamd.start()
        wait_until(lambda: file_rows(root)[file_id][0] == "clean", "clean once clamd is back")
        served = http.get(download, timeout=10)
        assert (served.status_code, served.content) == (200, TEXT)
    finally:
        server.stop()
