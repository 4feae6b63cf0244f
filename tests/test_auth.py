"""Login, logout, lockout, sessions that end, and where a login may redirect."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from extensions import db
from security.accounts import find_user
from security.clock import utcnow


def test_login_page_is_spanish_with_csrf_meta(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert '<meta name="csrf-token" content="' in page
    assert "Iniciar sesión" in page


def test_good_login_lands_on_home_showing_user_and_role(client, login):
    answer = login(client, "cliente", expect=None)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "cliente" in home and 'class="role role-cliente"' in home


def test_home_requires_login(client):
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("username,password", [("admin", "wrong-password"), ("nadie", "admin123")])
def test_bad_credentials_get_one_message_and_401(client, login, username, password):
    answer = login(client, username, password, expect=None)
    assert answer.status_code == 401
    assert "Usuario o contraseña incorrectos." in answer.get_data(as_text=True)


def test_disabled_account_is_refused_with_403(app, client, login):
    with app.app_context():
        find_user("usuario").active = False
        db.session.commit()
    answer = login(client, "usuario", expect=None)
    assert answer.status_code == 403
    assert "desactivada" in answer.get_data(as_text=True)


def test_sixth_login_after_five_failures_is_locked_even_with_right_password(app, client, login,
                                                                           read_audit):
    for _ in range(5):
        assert login(client, "cliente", "wrong-password", expect=None).status_code == 401
    answer = login(client, "cliente", expect=None)
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 14 * 60
    assert "bloqueada" in answer.get_data(as_text=True)
    events = [row["event"] for row in read_audit(app)]
    assert "account_locked" in events


def test_lockout_survives_a_restart(client, login, another_app):
    for _ in range(5):
        login(client, "cliente", "wrong-password", expect=401)
    restarted = another_app()
    answer = login(restarted.test_client(), "cliente", expect=None)
    assert answer.status_code == 429


def test_failures_spread_over_more_than_the_window_do_not_lock(app, client, login):
    from datetime import timedelta

    for _ in range(4):
        login(client, "cliente", "wrong-password", expect=401)
    with app.app_context():
        user = find_user("cliente")
        user.failed_window_start = user.failed_window_start - timedelta(minutes=16)
        db.session.commit()
    login(client, "cliente", "wrong-password", expect=401)
    assert login(client, "cliente", expect=None).status_code == 302


def test_login_is_limited_per_ip(client, login):
    statuses = [login(client, f"nadie{i}", "x", expect=None).status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/files", "/files"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_redirects_only_to_same_site_next(client, login, target, expected):
    answer = login(client, "admin", expect=None, query_string={"next": target})
    assert answer.status_code == 302
    assert answer.headers["Location"] == expected


def test_logout_requires_post(client, login):
    login(client, "admin")
    assert client.get("/logout").status_code == 405


def test_logout_ends_every_session_of_the_user(app, login, client):
    other = app.test_client()
    login(other, "admin")
    assert other.get("/").status_code == 200
    login(client, "admin")
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302


@pytest.mark.parametrize(
    "args",
    [
        ["set-role", "usuario", "cliente"],
        ["disable", "usuario"],
        ["reset-password", "usuario", "--password", "Otra-Clave-Larga-9"],
    ],
)
def test_account_changes_end_open_sessions(app, runner, login, args):
    browser = app.test_client()
    login(browser, "usuario")
    assert browser.get("/").status_code == 200
    result = runner.invoke(args=["users", *args])
    assert result.exit_code == 0, result.output
    assert browser.get("/").status_code == 302


def test_session_cookie_changes_at_login(client, login):
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, "admin")
    assert client.get_cookie("session").value != before


def test_login_and_logout_are_audited(app, client, login, read_audit):
    login(client, "admin")
    client.post("/logout")
    login(client, "admin", "bad-password", expect=401)
    events = [row["event"] for row in read_audit(app)]
    assert {"login_success", "logout", "login_failed"} <= set(events)


def test_attempted_username_is_audited_neutralised(app, client, login, read_audit):
    login(client, '=HYPERLINK("http://x","y")', "whatever", expect=401)
    row = next(r for r in read_audit(app) if r["event"] == "login_failed")
    assert row["user"].startswith("'=")


def test_ten_wrong_passwords_at_the_same_instant_count_ten_and_lock(app, login, read_audit):
    """Five are checked (the fifth locks); the rest are refused before any hash."""
    clients = [app.test_client() for _ in range(10)]
    for client in clients:
        client.csrf_token()  # each has its own session and token before the race starts
    start = threading.Barrier(len(clients))

    def guess(client):
        start.wait()
        return login(client, "cliente", f"intento-{id(client)}", expect=None).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(guess, clients))
    assert sorted(answers) == [401] * 5 + [429] * 5
    with app.app_context():
        assert find_user("cliente").lock_remaining() > 14 * 60
    assert [row["event"] for row in read_audit(app)].count("account_locked") >= 1


@pytest.mark.parametrize("body", [{"username": "admin", "password": True}, [1, 2], 42])
def test_a_json_body_at_the_login_form_is_refused_not_a_500(client, body):
    answer = client.post("/login", json=body)
    assert answer.status_code == 400


def test_a_rate_limited_login_keeps_the_form_and_says_how_many_seconds_to_wait(app, client,
                                                                               login, read_audit):
    for i in range(10):
        login(client, f"nadie{i}", "x", expect=401)
    answer = login(client, "cliente", expect=429)
    page = answer.get_data(as_text=True)
    retry_after = int(answer.headers["Retry-After"])
    shown = int(re.search(r'data-seconds="(\d+)">(\d+) s<', page).group(2))
    assert 0 < retry_after <= 60 and abs(shown - retry_after) <= 1
    assert "Inténtelo de nuevo en" in page and 'id="username"' in page and 'value="cliente"' in page
    assert "rate_limited" in [row["event"] for row in read_audit(app)]


def test_a_locked_account_is_told_the_minutes_left_on_the_form(client, login):
    for _ in range(5):
        login(client, "cliente", "wrong-password", expect=401)
    page = login(client, "cliente", expect=429).get_data(as_text=True)
    assert "Cuenta bloqueada por demasiados intentos. Inténtelo de nuevo en" in page
    assert re.search(r'data-seconds="\d+">15 min<', page)
    assert 'id="password"' in page


@pytest.mark.parametrize("username,focused", [("admin", "password"), ("", "username")])
def test_after_a_refused_login_the_field_to_fix_has_the_focus(client, login, username, focused):
    page = login(client, username, "wrong-password", expect=None).get_data(as_text=True)
    autofocused = re.findall(r'<input[^>]*\bautofocus\b[^>]*>', page)
    assert len(autofocused) == 1 and f'id="{focused}"' in autofocused[0]


def test_an_attempt_that_read_the_account_before_it_locked_is_refused(app):
    """The race behind a flaky lockout: a request reads the account unlocked, another locks
    it (resetting the count), then the first counts: it must be refused, not start anew."""
    from security import login as login_module

    with app.app_context():
        stale = find_user("cliente")
        login_module._lock(find_user("cliente"))
        assert login_module._count_attempt(stale) is None
        assert find_user("cliente").failed_logins == 0


def test_a_login_after_an_expired_lockout_is_checked_again(app, client, login):
    with app.app_context():
        user = find_user("cliente")
        user.locked_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
    login(client, "cliente", "mala-contraseña", expect=401)
    login(client, "cliente", expect=302)
