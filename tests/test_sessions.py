"""A login does not last for ever: idle and absolute limits, with a chat socket as activity."""

from __future__ import annotations

import time

from extensions import socketio
from security.sessions import SEEN, STARTED


def age_session(client, **seconds_ago: float) -> None:
    """Move the session's start or last activity into the past."""
    with client.session_transaction() as session:
        for key, ago in seconds_ago.items():
            session[key] = time.time() - ago


def test_an_idle_session_ends_and_the_page_goes_to_login(app, client, login):
    login(client, "cliente")
    age_session(client, seen_at=(app.config["SESSION_IDLE_MINUTES"] + 1) * 60)
    answer = client.get("/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_request_before_the_idle_limit_keeps_the_session(app, client, login):
    login(client, "cliente")
    age_session(client, seen_at=(app.config["SESSION_IDLE_MINUTES"] - 1) * 60)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[SEEN] < 5  # the request counted as activity


def test_a_connected_chat_socket_counts_as_activity(app, client, login):
    login(client, "cliente")
    sock = socketio.test_client(app, flask_test_client=client)
    age_session(client, seen_at=(app.config["SESSION_IDLE_MINUTES"] + 5) * 60)
    assert client.get("/").status_code == 200
    sock.disconnect()


def test_every_session_ends_after_the_maximum_even_with_a_socket(app, client, login):
    login(client, "cliente")
    sock = socketio.test_client(app, flask_test_client=client)
    age_session(client, started_at=(app.config["SESSION_MAX_HOURS"] + 1) * 3600)
    assert client.get("/api/files").status_code == 401
    sock.disconnect()


def test_a_session_from_before_these_limits_is_not_accepted(client, login):
    login(client, "cliente")
    with client.session_transaction() as session:
        del session[STARTED]
    assert client.get("/").status_code == 302
