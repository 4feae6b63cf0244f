"""Shared fixtures: a fresh app on throwaway storage, a CSRF-aware client, and a login helper."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.services", "tests.live_server", "tests.e2e.browser")
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, prepare_database
from tests.e2e.browser import watch_errors
from tests.live_server import LiveServer
from tests.services import require_service

pytest_plugins = ["tests.services"]

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on a real server process are marked `live` (make test reruns them under gevent)."""
    for item in items:
        module = getattr(item, "module", None)
        if "live_server" in getattr(item, "fixturenames", ()) or hasattr(module, "LiveServer"):
            item.add_marker(pytest.mark.live)


class PiClient(FlaskClient):
    """A test client that sends the page's CSRF token with every state-changing request."""

    def csrf_token(self) -> str:
        """The token the current session's pages carry."""
        page = self.get("/login") if not self._logged_in() else self.get("/")
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match, "page has no csrf-token meta"
        return match.group(1)

    def _logged_in(self) -> bool:
        with self.session_transaction() as session:
            return "_user_id" in session

    def open(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        method = kwargs.get("method", "GET").upper()
        if csrf and method in UNSAFE_METHODS:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def storage_env(monkeypatch: pytest.MonkeyPatch, root: Path, db_path: Path) -> None:
    """Point every data path of the app at `root`."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("QUARANTINE_DIR", str(root / "cuarentena"))
    monkeypatch.setenv("LOG_DIR", str(root / "logs"))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    for name in ("REDIS_URL", "CLAMD_SOCKET", "CLAMD_HOST", "ADMIN_PASS", "PICHAT_ENV", "DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded database made once; each test gets a copy."""
    root = tmp_path_factory.mktemp("template")
    db_path = root / "template.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        storage_env(monkeypatch, root, db_path)
        app = create_app("testing")
        prepare_database(app)
        app.extensions["audit"].close()
    return db_path


@pytest.fixture
def app(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """A testing app with its own database copy, quarantine and log folder."""
    db_path = tmp_path / "pichat.db"
    shutil.copy(template_db, db_path)
    storage_env(monkeypatch, tmp_path, db_path)
    app = create_app("testing")
    app.test_client_class = PiClient
    yield app
    app.extensions["audit"].close()


@pytest.fixture
def client(app: Flask) -> PiClient:
    """A CSRF-aware test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """The Flask CLI runner."""
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out through the real form."""

    def __init__(self, client: PiClient) -> None:
        self._client = client

    def login(self, username: str = "admin", password: str = "admin123", **kwargs):
        return self._client.post(
            "/login", data={"username": username, "password": password}, **kwargs
        )

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client: PiClient) -> AuthActions:
    """Login helper bound to `client`."""
    return AuthActions(client)


def read_audit(app: Flask) -> list[dict[str, str]]:
    """Every audit row written so far, newest first."""
    from logging_.reader import read_rows

    app.extensions["audit"].flush()
    return read_rows(app.config["LOG_DIR"], limit=100_000)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis server's URL (a test database number, flushed before use)."""
    import redis

    url = os.environ.get("PICHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_timeout=2).flushdb()
    except redis.RedisError as exc:
        require_service(f"Redis not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The local PostgreSQL test database's URL, emptied before use."""
    import psycopg

    url = os.environ.get("PICHAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
    except psycopg.Error as exc:
        require_service(f"PostgreSQL not reachable at {url}: {exc}")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real `python app.py` on a free loopback port with the demo accounts."""
    server = LiveServer(tmp_path / "server").start()
    yield server
    server.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        require_service("chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; console errors are collected on page.errors."""
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="es-ES")
    yield watch_errors(context.new_page())
    context.close()
