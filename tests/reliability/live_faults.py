"""What the fault tests do to and read from a live server: uploads (whole or cut off mid-body),
the quarantine folder, the files table and the server's log."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import requests

from tests.live_server import LiveServer

MIB = 1024 * 1024
WAIT_SECONDS = 20.0
BOUNDARY = "pichat-fault-boundary"


def upload(server: LiveServer, http: requests.Session, name: str, data: bytes) -> requests.Response:
    """POST one file to /api/files as the files page does (CSRF token in the header)."""
    token = server.csrf_token(http, "/files")
    return http.post(f"{server.url}/api/files", files={"file": (name, data, "text/plain")},
                     headers={"X-CSRFToken": token}, timeout=30)


def start_upload(server: LiveServer, http: requests.Session, size: int,
                 sent: int) -> socket.socket:
    """Announce an upload of `size` bytes but send only the first `sent` of them; the caller
    closes the socket. The server is left writing the file into its quarantine."""
    token = server.csrf_token(http, "/files")
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"grande.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    cookies = "; ".join(f"{k}={v}" for k, v in http.cookies.get_dict().items())
    request = (f"POST /api/files HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
               f"Cookie: {cookies}\r\nX-CSRFToken: {token}\r\n"
               f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
               f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(request + head + b"x" * sent)
    return sock


def uploads_kept(root: Path) -> list[str]:
    """Names in the server's quarantine folder, leaving out dotfiles that are not uploads."""
    return sorted(path.name for path in (root / "cuarentena").iterdir()
                  if not path.name.startswith("."))


def file_rows(root: Path) -> dict[str, tuple[str, int]]:
    """The files table of the server's SQLite database: id -> (status, scan attempts)."""
    with closing(sqlite3.connect(root / "pichat.db", timeout=10)) as db:
        rows = db.execute("SELECT id, status, scan_attempts FROM files").fetchall()
    return {file_id: (status, attempts) for file_id, status, attempts in rows}


def wait_until(condition: Callable[[], object], what: str,
               seconds: float = WAIT_SECONDS) -> object:
    """Poll `condition` until it is truthy and return its value; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)
    return value


def tracebacks(server: LiveServer) -> list[str]:
    """Lines of the server's output that start a Python traceback."""
    return [line for line in server.log_text().splitlines() if line.startswith("Traceback")]
