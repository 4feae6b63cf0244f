"""A real `python app.py` subprocess on a free loopback port, for integration and e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0
DEMO_PASSWORDS = {"admin": "admin123", "cliente": "cliente123", "usuario": "usuario123"}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """Start, reach and stop one PiChat server process with its own storage."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PICHAT_ENV": "development",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{root / 'pichat.db'}",
            "QUARANTINE_DIR": str(root / "cuarentena"),
            "LOG_DIR": str(root / "logs"),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
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
                if requests.get(f"{self.url}/health", timeout=1).ok:
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

    def log_text(self) -> str:
        """Everything the server printed."""
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def session(self, username: str = "admin", password: str = "admin123") -> requests.Session:
        """A requests session logged in through the real form."""
        from tests.conftest import CSRF_META

        http = requests.Session()
        page = http.get(f"{self.url}/login", timeout=10).text
        token = CSRF_META.search(page).group(1)
        answer = http.post(
            f"{self.url}/login",
            timeout=30,
            allow_redirects=False,
            data={"username": username, "password": password, "csrf_token": token},
        )
        assert answer.status_code == 302, answer.text
        return http
