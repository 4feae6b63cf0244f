"""A login does not last for ever: idle and absolute limits, with a chat socket as activity."""

from __future__ import annotations

import re
import time

import pytest

from extensions import socketio
from security.sessions import SEEN, STARTED
from tests.login_form import csrf_token


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


def login_notice(client) -> str | None:
    """The login page's note on why the last session ended, or None when it has none."""
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'id="login-notice">([^<]*)<', page)
    return match.group(1) if match else None


def test_after_logging_out_the_login_page_says_so_until_the_next_login(client, login):
    login(client, "cliente")
    answer = client.post("/logout")
    assert answer.headers["Location"] == "/login"
    assert login_notice(client) == "Ha cerrado la sesión."
    assert login_notice(client) == "Ha cerrado la sesión."  # another tab sent here too
    login(client, "cliente")
    age_session(client, seen_at=60 * 60 * 24)
    assert login_notice(client) == "Su sesión caducó por inactividad; vuelva a iniciar sesión."


def test_a_logout_on_another_device_is_named_on_this_one(app, client, login):
    phone = app.test_client()
    login(phone, "cliente")
    login(client, "cliente")
    phone.post("/logout")
    assert client.get("/").status_code == 302
    assert login_notice(client) == "Ha cerrado la sesión en otra ventana o dispositivo."


@pytest.mark.parametrize("change,notice", [
    ({"role": "cliente"}, "Un administrador ha cambiado su rol; vuelva a iniciar sesión."),
    ({"password": "caballo-bateria-grapa"},
     "Un administrador ha cambiado su contraseña; pídale la nueva para entrar."),
    ({"active": False}, "Un administrador ha desactivado su cuenta."),
])
def test_a_session_ended_by_an_administrator_says_what_changed(app, client, login, change, notice):
    login(client, "usuario")
    admin = app.test_client()
    login(admin, "admin")
    assert admin.patch("/api/admin/users/usuario", json=change).status_code == 200
    assert client.get("/").status_code == 302
    assert login_notice(client) == notice


@pytest.mark.parametrize("aged,notice", [
    ({"seen_at": 60 * 60 * 24}, "Su sesión caducó por inactividad; vuelva a iniciar sesión."),
    ({"started_at": 3600 * 24 * 30},
     "Su sesión llegó a su duración máxima; vuelva a iniciar sesión."),
])
def test_an_expired_session_is_told_apart_from_a_logout(client, login, aged, notice):
    login(client, "cliente")
    age_session(client, **aged)
    assert client.get("/files").headers["Location"] == "/login?next=/files"
    assert login_notice(client) == notice


@pytest.mark.parametrize("query", ["", "?motivo=admin", "?ended=off", "?notice=Cuenta+robada"])
def test_a_link_cannot_make_the_login_page_claim_a_session_ended(client, query):
    page = client.get(f"/login{query}").get_data(as_text=True)
    assert 'id="login-notice"' not in page
    assert "administrador" not in page.lower()


def test_a_later_expiry_is_not_blamed_on_an_earlier_role_change(app, client, login):
    login(client, "usuario")
    admin = app.test_client()
    login(admin, "admin")
    admin.patch("/api/admin/users/usuario", json={"role": "cliente"})
    token = csrf_token(client.get("/login").get_data(as_text=True))
    login(client, "usuario", csrf=False, headers={"X-CSRFToken": token})
    age_session(client, seen_at=60 * 60 * 24)
    assert login_notice(client) == "Su sesión caducó por inactividad; vuelva a iniciar sesión."
