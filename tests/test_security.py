"""Headers, cookies, CSRF, error pages, rate limits and the production guards."""

from __future__ import annotations

import pytest

from app import create_app, prepare_database
from config import ConfigError, load_config
from security.accounts import find_user


@pytest.mark.parametrize("path", ["/login", "/health", "/no-such-page", "/api/nothing"])
def test_every_response_carries_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_session_cookie_is_httponly_and_lax(client, login):
    answer = login(client, "admin")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    config = load_config("production")
    assert config.SESSION_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True


def test_production_refuses_debug(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DEBUG", "1")
    with pytest.raises(ConfigError, match="DEBUG"):
        load_config("production")


@pytest.mark.parametrize("value", ["maybe", "2", "sí"])
def test_malformed_boolean_setting_is_refused(monkeypatch, value):
    monkeypatch.setenv("DEBUG", value)
    with pytest.raises(ConfigError, match="DEBUG"):
        load_config("development")


def test_malformed_number_setting_is_refused(monkeypatch):
    monkeypatch.setenv("PORT", "ochenta")
    with pytest.raises(ConfigError, match="PORT"):
        load_config("development")


def test_production_seeds_only_the_admin_from_admin_pass(another_app, tmp_path):
    prod = another_app("production", DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
                       ADMIN_PASS="Una-Clave-Muy-Segura-42")
    assert prepare_database(prod) == ["admin"]
    with prod.app_context():
        assert find_user("admin").role == "administrator"
        assert find_user("cliente") is None and find_user("usuario") is None


def test_production_refuses_a_weak_admin_pass(monkeypatch, tmp_path):
    from errors import Refusal

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("ADMIN_PASS", "admin123")
    prod = create_app("production")
    with pytest.raises(Refusal, match="10 caracteres"):
        prepare_database(prod)
    prod.extensions["audit"].close()


def test_post_without_csrf_token_is_refused_and_audited(app, client, login, read_audit):
    answer = login(client, "admin", expect=None, csrf=False)
    assert answer.status_code == 400
    assert client.get("/").status_code == 302
    assert "csrf_rejected" in [row["event"] for row in read_audit(app)]


def test_csrf_token_in_form_field_is_accepted(client):
    token = client.csrf_token()
    answer = client.post(
        "/login",
        csrf=False,
        data={"username": "admin", "password": "admin123", "csrf_token": token},
    )
    assert answer.status_code == 302


def test_logout_without_csrf_token_keeps_the_session(client, login):
    login(client, "admin")
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200


def test_unknown_page_gets_spanish_error_page(client):
    answer = client.get("/no-such-page")
    assert answer.status_code == 404
    assert "No se encontró" in answer.get_data(as_text=True)
    assert answer.mimetype == "text/html"


def test_unknown_api_route_gets_json_error(client):
    answer = client.get("/api/nothing")
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "not_found", "message": "No se encontró lo que busca."}


def test_unexpected_error_shows_no_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    answer = client.get("/boom")
    assert answer.status_code == 500
    assert "secret internals" not in answer.get_data(as_text=True)
    assert "Traceback" not in answer.get_data(as_text=True)


def test_health_is_ok(client):
    answer = client.get("/health")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


@pytest.fixture
def tight_limit_app(another_app):
    """An app whose default limit is 3 per minute, to reach it quickly."""
    return another_app(RATELIMIT_DEFAULT="3 per minute")


@pytest.mark.parametrize("user,allowed", [("usuario", 3), ("cliente", 6), ("admin", 15)])
def test_default_limit_scales_with_role(tight_limit_app, login, user, allowed):
    browser = tight_limit_app.test_client()
    login(browser, user)
    statuses = [browser.get("/").status_code for _ in range(allowed + 1)]
    assert statuses[:allowed] == [200] * allowed
    assert statuses[allowed] == 429


def test_rate_limited_answer_has_retry_after_and_message(tight_limit_app, read_audit):
    browser = tight_limit_app.test_client()
    for _ in range(3):
        browser.get("/login")
    answer = browser.get("/login")
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    assert "Demasiadas peticiones" in answer.get_data(as_text=True)
    assert "rate_limited" in [row["event"] for row in read_audit(tight_limit_app)]


def test_health_and_static_are_exempt_from_limits(tight_limit_app):
    browser = tight_limit_app.test_client()
    for _ in range(10):
        assert browser.get("/health").status_code == 200
        assert browser.get("/static/css/app.css").status_code == 200


def test_rate_limits_are_shared_through_redis(another_app, redis_url):
    """A second process (a second app with fresh limiter storage) sees the first one's hits."""
    first = another_app(RATELIMIT_DEFAULT="3 per minute", REDIS_URL=redis_url)
    statuses = [first.test_client().get("/login").status_code for _ in range(2)]
    second = another_app()
    statuses += [second.test_client().get("/login").status_code for _ in range(2)]
    assert statuses == [200, 200, 200, 429]


def test_login_limit_counts_each_client_behind_a_trusted_proxy(another_app, login):
    browser = another_app(TRUSTED_PROXIES="1").test_client()

    def attempt(client_ip: str) -> int:
        headers = {"X-Forwarded-For": client_ip}
        return login(browser, "nadie", "x", expect=None, headers=headers).status_code

    assert [attempt("10.0.0.1") for _ in range(11)][-1] == 429
    assert attempt("10.0.0.2") == 401


def test_forwarded_for_is_ignored_without_trusted_proxies(client, login):
    def attempt(client_ip: str) -> int:
        headers = {"X-Forwarded-For": client_ip}
        return login(client, "nadie", "x", expect=None, headers=headers).status_code

    assert [attempt(f"10.0.0.{i}") for i in range(11)][-1] == 429



@pytest.mark.parametrize("path", ["/", "/files", "/api/files", "/static/css/app.css"])
def test_nothing_a_logged_in_person_sees_is_kept_in_the_browser_cache(client, login, path):
    login(client, "cliente")
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_the_login_page_may_be_cached_when_nobody_is_logged_in(client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
