"""A real `python app.py` subprocess on a free loopback port, for integration and e2e tests.

With PICHAT_TEST_POSTGRES=1 (make test's PostgreSQL pass) every SQLite file a server would
use becomes a fresh database on the machine's PostgreSQL instead: one per file, so servers
that shared a file share a database, and all are dropped when the test run ends.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.login_form import csrf_token, password_for
from tests.services import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0
_POSTGRES_FOR_SQLITE: dict[str, str] = {}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connect_from(address: str, port: int) -> socket.socket:
    """A TCP connection to 127.0.0.1:`port` from the loopback source address `address`
    (127.0.0.0/8 is all this machine: each address stands for another client)."""
    sock = socket.socket()
    try:
        sock.bind((address, 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def database_for_test(url: str) -> str:
    """`url`, or under PICHAT_TEST_POSTGRES=1 the PostgreSQL database standing for its SQLite
    file (made on first use)."""
    if os.environ.get("PICHAT_TEST_POSTGRES") != "1" or not url.startswith("sqlite:"):
        return url
    if url not in _POSTGRES_FOR_SQLITE:
        if not _POSTGRES_FOR_SQLITE:
            atexit.register(_drop_test_databases)
        _POSTGRES_FOR_SQLITE[url] = create_postgres_database("pichat_live")
    return _POSTGRES_FOR_SQLITE[url]


def _drop_test_databases() -> None:
    for url in _POSTGRES_FOR_SQLITE.values():
        drop_postgres_database(url)


class LiveServer:
    """Start, reach and stop one PiChat server process with its own storage.

    With `tls`, the server makes its own CA and serves HTTPS: `url` is https://, requests
    made through `client()` trust only that CA, and `http_url` reaches the same port in
    plain HTTP (which answers with redirects).
    """

    def __init__(self, root: Path, tls: bool = False, **env: str) -> None:
        self.root = root
        self.port = free_port()
        self.http_url = f"http://127.0.0.1:{self.port}"
        self.url = f"https://127.0.0.1:{self.port}" if tls else self.http_url
        self.ca_path = root / "instance" / "tls" / "ca.crt"
        self.tls = tls
        self.env = {
            **os.environ,
            "PICHAT_ENV": "development",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{root / 'pichat.db'}",
            "QUARANTINE_DIR": str(root / "cuarentena"),
            "LOG_DIR": str(root / "logs"),
            "INSTANCE_DIR": str(root / "instance"),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.env["DATABASE_URL"] = database_for_test(self.env["DATABASE_URL"])
        self.process: subprocess.Popen[bytes] | None = None
        self.output = root / f"server-{self.port}.log"

    def start(self) -> LiveServer:
        """Launch the process and wait until /health answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.output, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "app.py")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_text()}")
            try:
                if self._answers():
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer in {START_SECONDS}s:\n{self.log_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Stop the process (SIGTERM by default) and return its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)

    def _answers(self) -> bool:
        """Whether /health answers (over HTTPS, once the CA it made exists)."""
        if self.tls and not self.ca_path.exists():
            return False
        return self.client().get(f"{self.url}/health", timeout=1).ok

    def client(self) -> requests.Session:
        """A requests session that trusts this server's own CA (when it has one)."""
        http = requests.Session()
        if self.tls:
            http.verify = str(self.ca_path)
            # Else REQUESTS_CA_BUNDLE from the environment would override `verify`.
            http.trust_env = False
        return http

    def post(self, http: requests.Session, path: str, data: dict[str, str],
             page: requests.Response | None = None) -> requests.Response:
        """Submit a form to `path` as a browser would: the page's CSRF token and a Referer.

        `page` is the form page already fetched; otherwise `path` is fetched first.
        """
        page = page or http.get(f"{self.url}{path}", timeout=10)
        return http.post(f"{self.url}{path}", data={**data, "csrf_token": csrf_token(page.text)},
                         headers={"Referer": page.url}, allow_redirects=False, timeout=30)

    def fingerprint(self) -> str:
        """The SHA-256 fingerprint of the CA this server made."""
        from security.certificates import fingerprint

        return fingerprint(self.ca_path)

    def log_text(self) -> str:
        """Everything the server printed."""
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def session(self, username: str, password: str | None = None) -> requests.Session:
        """A requests session logged in through the real form (a demo account unless
        `password` is given)."""
        http = self.client()
        data = {"username": username, "password": password_for(username, password)}
        answer = self.post(http, "/login", data)
        assert answer.status_code == 302, answer.text
        return http

    def csrf_token(self, http: requests.Session, path: str = "/") -> str:
        """The CSRF token of `http`'s session, read from the page at `path`."""
        return csrf_token(http.get(f"{self.url}{path}", timeout=10).text)
