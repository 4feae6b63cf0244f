"""The SQLite file write-locked by another process while a real `python app.py` serves
(issue 12): a short lock only delays a request; a long one answers 503 with a Spanish
message, as JSON under /api/ and as a page elsewhere; nothing is half-written, nothing is
corrupted, no traceback is logged and the server serves again once the lock goes."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import requests

from tests.live_server import LiveServer
from tests.reliability.live_faults import tracebacks

# Python's sqlite3 waits this long for a lock before giving up (PiChat does not change it).
BUSY_TIMEOUT = 5.0
SHORT_LOCK = 1.5
STRONG_PASSWORD = "Faro-Verde-2031"
# An administrator's session and the CSRF header of its pages.
Admin = tuple[requests.Session, dict[str, str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for the module: both tests lock its database from outside."""
    live = LiveServer(tmp_path_factory.mktemp("sqlite-lock")).start()
    yield live
    live.stop()


@pytest.fixture
def admin(server: LiveServer) -> Admin:
    """An administrator, logged in and with the CSRF token read before any lock."""
    http = server.session("admin")
    return http, {"X-CSRFToken": server.csrf_token(http)}


@contextmanager
def exclusive_lock(database: Path) -> Iterator[sqlite3.Connection]:
    """Hold BEGIN EXCLUSIVE on `database` from this process, as a backup tool or a
    maintenance shell would; rolled back at the end (another thread may end it sooner)."""
    with closing(sqlite3.connect(database, isolation_level=None,
                                 check_same_thread=False)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield holder
        finally:
            if holder.in_transaction:
                holder.execute("ROLLBACK")


def create_user(server: LiveServer, admin: Admin, username: str) -> requests.Response:
    """POST /api/admin/users for a new `usuario` account."""
    http, csrf = admin
    body = {"username": username, "password": STRONG_PASSWORD, "role": "usuario"}
    return http.post(f"{server.url}/api/admin/users", json=body, headers=csrf, timeout=30)


def usernames(server: LiveServer, admin: Admin) -> set[str]:
    """The accounts GET /api/admin/users lists."""
    http, _ = admin
    return {user["username"] for user in http.get(f"{server.url}/api/admin/users",
                                                  timeout=30).json()}


def test_a_lock_released_within_the_busy_timeout_only_delays_the_request(server, admin):
    with exclusive_lock(server.root / "pichat.db") as holder:
        threading.Timer(SHORT_LOCK, holder.execute, ["ROLLBACK"]).start()
        started = time.monotonic()
        answer = create_user(server, admin, "espera")
    assert answer.status_code == 201, answer.text
    assert SHORT_LOCK - 0.5 < time.monotonic() - started < BUSY_TIMEOUT
    assert "espera" in usernames(server, admin)


def test_a_lock_held_past_the_busy_timeout_answers_503_and_leaves_nothing_broken(server,
                                                                                  admin):
    http, _ = admin
    with exclusive_lock(server.root / "pichat.db"):
        api = create_user(server, admin, "nunca")
        page = http.get(f"{server.url}/files", headers={"Accept": "text/html"}, timeout=30)
    assert (api.status_code, api.json()["error"]) == (503, "busy")
    assert "base de datos está ocupada" in api.json()["message"]
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="es">' in page.text and "base de datos está ocupada" in page.text

    assert "nunca" not in usernames(server, admin)
    assert create_user(server, admin, "despues").status_code == 201
    with closing(sqlite3.connect(server.root / "pichat.db")) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert tracebacks(server) == []
