"""PostgreSQL under a real `python app.py`: restarted, requests in the gap answer 503 with a
message and work again after, with no traceback; a request waiting on a lock held elsewhere
(a slow query) leaves chat delivery to everyone else untouched, under eventlet and gevent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import requests

from tests.live_server import LiveServer
from tests.reliability.live_faults import tracebacks, wait_until
from tests.services import PostgresDaemon, fresh_postgres_database
from tests.test_chat_live import LiveChat

# Each message must cross within this while another request waits on the lock: a blocked
# event loop would hold every one of them until the lock goes.
DELIVERY_SECONDS = 1.0
LOCK_HELD_SECONDS = 3.0
PACE_SECONDS = 0.2  # within the per-connection event budget (10/s)


def psycopg_url(database_url: str) -> str:
    """DATABASE_URL in the form psycopg itself connects with."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def restartable(tmp_path, own_postgres: PostgresDaemon) -> Iterator[LiveServer]:
    """A live server on a PostgreSQL of this module's own, which the test stops and starts."""
    server = LiveServer(tmp_path / "server", DATABASE_URL=own_postgres.url).start()
    yield server
    server.stop()


def test_postgres_restart_answers_503_in_the_gap_then_serves(restartable, own_postgres):
    http = restartable.session("cliente")
    assert http.get(f"{restartable.url}/api/files", timeout=10).status_code == 200
    own_postgres.stop()
    try:
        api = http.get(f"{restartable.url}/api/files", timeout=10)
        assert (api.status_code, api.json()["error"]) == (503, "busy")
        assert "base de datos no responde" in api.json()["message"]
        page = http.get(f"{restartable.url}/files", timeout=10)
        assert page.status_code == 503
        assert '<html lang="es">' in page.text and "base de datos no responde" in page.text
    finally:
        own_postgres.start()
    wait_until(lambda: http.get(f"{restartable.url}/api/files", timeout=10).status_code == 200,
               "the server answers again once PostgreSQL is back", seconds=10)
    assert http.get(f"{restartable.url}/", timeout=10).status_code == 200
    assert tracebacks(restartable) == []


@pytest.fixture
def on_postgres(tmp_path) -> Iterator[tuple[LiveServer, str]]:
    """A live server on a fresh database of the machine's PostgreSQL, and that database's URL."""
    with fresh_postgres_database() as url:
        server = LiveServer(tmp_path / "server", DATABASE_URL=url)
        try:
            yield server.start(), url
        finally:
            server.stop()


def waiting_on_a_lock(conn: psycopg.Connection) -> bool:
    """Whether some session of the server waits for a lock this connection holds."""
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()").fetchone()
    return bool(row and row[0])


def test_a_request_waiting_on_a_lock_does_not_stop_chat(on_postgres):
    server, url = on_postgres
    admin, cliente = LiveChat(server, "admin").connect(), LiveChat(server, "cliente").connect()
    reader = server.session("usuario")
    answered: list[requests.Response] = []
    try:
        with psycopg.connect(psycopg_url(url), autocommit=True) as holder, \
                psycopg.connect(psycopg_url(url), autocommit=True) as watcher:
            holder.execute("BEGIN")
            holder.execute("LOCK TABLE files IN ACCESS EXCLUSIVE MODE")
            waiting = threading.Thread(target=lambda: answered.append(
                reader.get(f"{server.url}/api/files", timeout=30)))
            waiting.start()
            wait_until(lambda: waiting_on_a_lock(watcher), "GET /api/files waits on the lock")
            locked_until = time.monotonic() + LOCK_HELD_SECONDS
            while time.monotonic() < locked_until:
                sent = time.monotonic()
                assert admin.call("send_message", {"room": "lobby", "text": "¿seguimos?"})["ok"]
                assert cliente.next_message()["text"] == "¿seguimos?"
                assert time.monotonic() - sent < DELIVERY_SECONDS
                time.sleep(PACE_SECONDS)
            assert not answered, "the request did not wait for the lock"
            holder.execute("ROLLBACK")
        waiting.join(timeout=30)
        assert answered and answered[0].status_code == 200
    finally:
        admin.sio.disconnect()
        cliente.sio.disconnect()
