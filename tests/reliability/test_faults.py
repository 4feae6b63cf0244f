"""Faults against a real `python app.py` (issue 12): the process killed outright mid-upload,
and stopped with SIGTERM while people chat. The other faults have their own files:
clamd (test_faults_scan.py), the database (test_faults_database.py), the disk
(test_faults_disk.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import socketio

from logging_.reader import read_rows
from tests.live_server import ROOT, LiveServer
from tests.reliability.live_faults import (
    MIB,
    file_rows,
    start_upload,
    upload,
    uploads_kept,
    wait_until,
)
from tests.test_chat_live import LiveChat

# Who writes to whom while the server is stopped: every demo account sends and receives.
DIRECT_MESSAGES = {"admin": "cliente", "cliente": "usuario", "usuario": "admin"}
# Enough acknowledged events that the stop lands among them, not before the first.
ACKS_BEFORE_STOP = 45
# One event in this many creates a room (each costs an Argon2 hash and a room attempt).
ROOM_EVERY = 8
# A call the stopped server will never answer: give up on it soon.
ACK_SECONDS = 2.0


@pytest.fixture
def started() -> Iterator[list[LiveServer]]:
    """The servers a test starts (it appends them), each killed at the end if still up."""
    servers: list[LiveServer] = []
    yield servers
    for server in servers:
        server.stop(signal.SIGKILL)


def test_kill_9_mid_upload_leaves_no_partial_file_nor_row_after_restart(tmp_path, started):
    root = tmp_path / "server"
    started.append(first := LiveServer(root).start())
    with start_upload(first, first.session("cliente"), size=8 * MIB, sent=2 * MIB):
        wait_until(lambda: [name for name in uploads_kept(root)
                            if (root / "cuarentena" / name).stat().st_size >= MIB],
                   "the upload is being written")
        first.stop(signal.SIGKILL)
    (cut_off,) = uploads_kept(root)
    assert cut_off.endswith(".part")

    started.append(second := LiveServer(root).start())  # same database, quarantine and logs
    assert uploads_kept(root) == [] and file_rows(root) == {}
    answer = upload(second, second.session("cliente"), "despues.txt", b"sigue funcionando\n")
    assert answer.status_code == 201, answer.text
    assert uploads_kept(root) == [answer.json()["id"]]


class Chatter(threading.Thread):
    """One person sending direct messages, and now and then creating a room, as fast as the
    server acknowledges them; both are audited."""

    def __init__(self, server: LiveServer, username: str) -> None:
        super().__init__(daemon=True)
        self.username, self.to = username, DIRECT_MESSAGES[username]
        self.person = LiveChat(server, username).connect()
        self.acked: Counter[str] = Counter()
        self.rooms: list[str] = []
        self.unexpected: list[dict] = []

    def run(self) -> None:
        try:
            while True:
                self._send_one()
        except socketio.exceptions.SocketIOError:
            return  # the server went away: what it acknowledged so far is counted

    def _send_one(self) -> None:
        if sum(self.acked.values()) % ROOM_EVERY == ROOM_EVERY - 1:
            code = f"{self.username}-{len(self.rooms)}"
            event, payload = "create_room", {"code": code, "password": "clave-de-sala"}
        else:
            event, payload = "send_direct", {"to": self.to, "text": "¿llega?"}
        answer = self.person.sio.call(event, payload, timeout=ACK_SECONDS)
        if answer.get("ok"):
            self.acked[event] += 1
            self.rooms += [payload["code"]] if event == "create_room" else []
        elif answer.get("error") == "rate_limited":
            self.person.sio.sleep(0.2)
        else:
            self.unexpected.append(answer)


def test_sigterm_under_chat_load_keeps_every_acknowledged_audit_row(tmp_path, started):
    started.append(server := LiveServer(tmp_path / "server").start())
    chatters = [Chatter(server, username) for username in DIRECT_MESSAGES]
    for chatter in chatters:
        chatter.start()
    wait_until(lambda: sum(sum(chatter.acked.values()) for chatter in chatters)
               >= ACKS_BEFORE_STOP, "the chat is under load")
    assert server.stop(signal.SIGTERM) == -signal.SIGTERM
    for chatter in chatters:
        chatter.join(timeout=15)
        chatter.person.sio.disconnect()

    rows = read_rows(server.env["LOG_DIR"], limit=100_000)
    messages = Counter(row["user"] for row in rows if row["event"] == "direct_message")
    rooms = {row["target"] for row in rows if row["event"] == "room_created"}
    for chatter in chatters:
        assert messages[chatter.username] >= chatter.acked["send_direct"], (messages, chatter.acked)
        assert set(chatter.rooms) <= rooms and chatter.unexpected == []
    verify = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "audit", "verify"],
                            cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and verify.stdout.startswith("ok:"), verify.stderr
