"""Shared fixtures: a fresh app on throwaway storage, a CSRF-aware client, the one login helper,
logged-in chat sockets, MicroNAS actions and the audit trail as rows."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.register_assert_rewrite(
    "tests.services", "tests.live_server", "tests.e2e.browser", "tests.login_form",
    "tests.chat_sockets", "tests.micronas",
)
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import logging_
from app import create_app, prepare_database
from config import load_config
from extensions import socketio
from tests.chat_sockets import ChatSockets, FakeClock
from tests.live_server import LiveServer
from tests.login_form import csrf_token, password_for
from tests.micronas import EmitRecorder, MicroNas

pytest_plugins = ["tests.services", "tests.e2e.browser"]

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# Fixtures that start real server processes.
LIVE_FIXTURES = {"live_server", "two_servers"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on a real server process are marked `live` (make test reruns them under gevent)."""
    for item in items:
        module = getattr(item, "module", None)
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())) or hasattr(module, "LiveServer"):
            item.add_marker(pytest.mark.live)


class PiClient(FlaskClient):
    """A test client that sends the page's CSRF token with every state-changing request."""

    def csrf_token(self) -> str:
        """The token the current session's pages carry."""
        return csrf_token(self.get("/" if self._logged_in() else "/login").get_data(as_text=True))

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


def log_in(client: FlaskClient, username: str, password: str | None = None, *,
           expect: int | None = 302, **kwargs) -> TestResponse:
    """POST the login form as `username` (a demo account unless `password` is given).

    The answer must be `expect` (302: logged in); `expect=None` leaves the checking to the
    caller. `kwargs` go to the request (query_string, headers, csrf).
    """
    form = {"username": username, "password": password_for(username, password)}
    answer = client.post("/login", data=form, **kwargs)
    if expect is not None:
        assert answer.status_code == expect, f"login as {username!r}: {answer.status_code}"
    return answer


@pytest.fixture(scope="session")
def login() -> Callable[..., TestResponse]:
    """The one way a test logs a Flask test client in:
    ``login(client, username, password=None, expect=302)`` returns the answer."""
    return log_in


def storage_env(monkeypatch: pytest.MonkeyPatch, root: Path, db_path: Path) -> None:
    """Point every data path of the app at `root`."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("QUARANTINE_DIR", str(root / "cuarentena"))
    monkeypatch.setenv("LOG_DIR", str(root / "logs"))
    monkeypatch.setenv("INSTANCE_DIR", str(root / "instance"))
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


@pytest.fixture(scope="session")
def fresh_app(template_db: Path) -> Callable[[pytest.MonkeyPatch, Path], Flask]:
    """Factory: ``fresh_app(monkeypatch, root)`` is a testing app with a copy of the seeded
    database, quarantine and logs under `root` (the caller closes its audit trail)."""

    def make(monkeypatch: pytest.MonkeyPatch, root: Path) -> Flask:
        db_path = root / "pichat.db"
        shutil.copy(template_db, db_path)
        storage_env(monkeypatch, root, db_path)
        app = create_app("testing")
        app.test_client_class = PiClient
        return app

    return make


@pytest.fixture
def app(tmp_path: Path, fresh_app, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """A testing app with its own database copy, quarantine and log folder."""
    app = fresh_app(monkeypatch, tmp_path)
    yield app
    app.extensions["audit"].close()


@pytest.fixture
def another_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Factory: ``another_app(config_name="testing", **env)`` builds a second app on this
    test's storage after setting `env`, as a restart or a second process would."""
    made: list[Flask] = []

    def make(config_name: str = "testing", **env: str) -> Flask:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        made.append(create_app(config_name))
        made[-1].test_client_class = PiClient
        return made[-1]

    yield make
    for other in made:
        other.extensions["audit"].close()


@pytest.fixture
def client(app: Flask) -> PiClient:
    """A CSRF-aware test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """The Flask CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def audit_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Factory: a bare Flask app with only the audit trail in tmp_path.

    `env` is set as the process environment before config.py reads it; `settings`
    override the result (for the ones that are not read from the environment).
    """
    made: list[Flask] = []

    def make(env: dict[str, str] | None = None, **settings: object) -> Flask:
        monkeypatch.setenv("LOG_DIR", str(tmp_path))
        monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "instance"))
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        app = Flask(__name__)
        app.config.from_object(load_config("testing"))
        app.config.update(settings)
        logging_.init_app(app)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["audit"].close()


def audit_rows(app: Flask) -> list[dict[str, str]]:
    """Every audit row written so far, newest first."""
    from logging_.reader import read_rows

    app.extensions["audit"].flush()
    return read_rows(app.config["LOG_DIR"], limit=100_000)


@pytest.fixture(scope="session")
def read_audit() -> Callable[[Flask], list[dict[str, str]]]:
    """``read_audit(app)``: every audit row the app wrote so far, newest first."""
    return audit_rows


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that stands still until the test calls ``advance(seconds)``."""
    return FakeClock()


@pytest.fixture(scope="session")
def chat_sockets():
    """Factory: ``with chat_sockets(app) as users:`` gives ``users.connect(name)``, a
    Socket.IO test client on a fresh login; all are disconnected when the block ends."""

    @contextmanager
    def open_on(app: Flask) -> Iterator[ChatSockets]:
        opened = ChatSockets(app, log_in)
        try:
            yield opened
        finally:
            opened.close()

    return open_on


@pytest.fixture
def users(app: Flask, chat_sockets) -> Iterator[ChatSockets]:
    """Logged-in Socket.IO test clients on `app`: ``users.connect("cliente")``."""
    with chat_sockets(app) as opened:
        yield opened


@pytest.fixture(scope="session")
def micronas() -> MicroNas:
    """Upload through the API and look at the quarantine folder and the files rows."""
    return MicroNas(log_in)


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> EmitRecorder:
    """Every socketio.emit of the test, recorded instead of sent: ``emitted.of(event)``."""
    recorder = EmitRecorder()
    monkeypatch.setattr(socketio, "emit", recorder)
    return recorder


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real `python app.py` on a free loopback port with the demo accounts."""
    server = LiveServer(tmp_path / "server").start()
    yield server
    server.stop()
