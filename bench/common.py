"""Shared benchmark plumbing: server subprocesses, bench accounts, logins, tables.

Everything stays on loopback. Each login gets its own source address in 127.0.0.0/8,
as people on a LAN each have their own IP, so PiChat's per-IP login limit stays on
and is not what a benchmark measures.

A PiChat server started with `tls=True` serves HTTPS from the local CA it makes in its
throwaway INSTANCE_DIR; clients then trust that CA alone (an explicit SSL context: the
environment's SSL_CERT_FILE / REQUESTS_CA_BUNDLE are never consulted) and keep verifying.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_hex

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0
STOP_SECONDS = 5.0
BENCH_PASSWORD = "banco-de-pruebas-2024"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
MODES = ("eventlet", "gevent")


def raise_fd_limit(wanted: int = 20_000) -> int:
    """Raise this process's open-file limit (children inherit it); return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_ip(index: int) -> str:
    """A distinct loopback source address for the index-th simulated person."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


class ServerProcess:
    """One server subprocess on a free loopback port with throwaway storage."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.root = Path(tempfile.mkdtemp(prefix="pichat-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, *args]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        # HTTPS: the CA certificate the server writes at start, the only one clients trust.
        self.ca_path: Path | None = None
        self._client_ssl: ssl.SSLContext | None = None

    def use_https(self, ca_path: Path) -> None:
        """Reach this server over https://, trusting only the CA it writes at `ca_path`."""
        self.url = f"https://127.0.0.1:{self.port}"
        self.ca_path = ca_path

    def client_ssl(self) -> ssl.SSLContext | None:
        """The verifying client context for this server's CA (None over plain HTTP)."""
        if self.ca_path is None:
            return None
        if self._client_ssl is None:
            # cafile= explicitly: the default context would read SSL_CERT_FILE instead.
            self._client_ssl = ssl.create_default_context(cafile=str(self.ca_path))
        return self._client_ssl

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> ServerProcess:
        """Launch the process and wait until /health answers."""
        with open(self.root / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_SECONDS
        last_error: OSError | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail("exited early")
            try:
                if self._answers():
                    return self
            except OSError as exc:  # refused, not listening yet, or (HTTPS) not verified
                last_error = exc
            time.sleep(0.1)
        self._fail(f"did not answer in {START_SECONDS}s (last error: {last_error})")

    def _answers(self) -> bool:
        """Whether /health answers; over HTTPS only once the CA exists, verified against it."""
        if self.ca_path is not None and not self.ca_path.exists():
            return False
        with urllib.request.urlopen(
            f"{self.url}/health", timeout=1, context=self.client_ssl()
        ) as answer:
            return answer.status == 200

    def _fail(self, what: str) -> None:
        """Stop the process and raise with the end of its output."""
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"{self.name} {what}:\n{tail}")

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers) and remove its storage."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server printed."""
        path = self.root / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far, all threads."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        """The server's resident memory (VmRSS) in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))


def pichat_server(mode: str, tls: bool = False, **env: str) -> ServerProcess:
    """A PiChat `python app.py` in development mode (demo accounts), on its own storage.

    With `tls`, TLS=auto: PiChat makes its local CA under INSTANCE_DIR/tls and serves
    HTTPS (plain http:// on the same port gets a 308); otherwise TLS=off, plain HTTP.
    """
    server = ServerProcess(f"PiChat/{mode}" + ("/https" if tls else ""), [str(ROOT / "app.py")])
    instance = server.root / "instance"
    server.env.update(
        PICHAT_ENV="development",
        PICHAT_ASYNC_MODE=mode,
        HOST="127.0.0.1",
        PORT=str(server.port),
        SECRET_KEY=token_hex(16),
        MAX_CONNECTIONS="10000",
        DATABASE_URL=f"sqlite:///{server.root / 'pichat.db'}",
        QUARANTINE_DIR=str(server.root / "cuarentena"),
        LOG_DIR=str(server.root / "logs"),
        INSTANCE_DIR=str(instance),
        TLS="auto" if tls else "off",
    )
    for name in (
        "REDIS_URL",
        "CLAMD_SOCKET",
        "CLAMD_HOST",
        "DEBUG",
        "ALLOWED_ORIGINS",
        "TLS_CERT",
        "TLS_KEY",
        "TLS_NAMES",
    ):
        server.env.pop(name, None)
    server.env.update(env)
    if tls:
        server.use_https(instance / "tls" / "ca.crt")
    return server


def bare_server(mode: str, **env: str) -> ServerProcess:
    """The baseline broadcast server of bench/bare_server.py in the same async mode."""
    server = ServerProcess(f"bare/{mode}", [str(ROOT / "bench" / "bare_server.py")], env)
    server.args += [str(server.port), mode]
    return server


def add_bench_users(server: ServerProcess, prefix: str, count: int) -> list[str]:
    """Insert `count` usuario accounts sharing one precomputed Argon2 hash; return their names."""
    from security.passwords import PasswordService

    # One hash made with PiChat's own parameters, so no login upgrades it.
    password_hash = PasswordService().hasher.hash(BENCH_PASSWORD)
    names = [f"{prefix}{index:05d}" for index in range(count)]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [(name, password_hash, token_hex(16), now) for name in names]
    with sqlite3.connect(server.root / "pichat.db", timeout=30) as db:
        db.executemany(
            "INSERT INTO users (username, password_hash, role, active, session_token,"
            " failed_logins, created_at) VALUES (?, ?, 'usuario', 1, ?, 0, ?)",
            rows,
        )
    return names


def http_session(
    index: int = 0, ssl_context: ssl.SSLContext | None = None
) -> aiohttp.ClientSession:
    """An HTTP client for one simulated person, from its own loopback source address.

    `ssl_context` verifies an HTTPS server (ServerProcess.client_ssl()); never unverified.
    """
    connector = aiohttp.TCPConnector(
        limit=0, local_addr=(loopback_ip(index), 0), ssl=ssl_context or True
    )
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def login_form(http: aiohttp.ClientSession, url: str) -> str:
    """GET /login and return the CSRF token of that session's form."""
    async with http.get(f"{url}/login") as page:
        return CSRF_META.search(await page.text()).group(1)


async def post_login(
    http: aiohttp.ClientSession, url: str, username: str, token: str, password: str = BENCH_PASSWORD
) -> None:
    """POST the login form like a browser; RuntimeError unless it redirects (302).

    A browser sends Origin and Referer with the form; over HTTPS Flask-WTF refuses a POST
    whose Referer is not this host.
    """
    form = {"username": username, "password": password, "csrf_token": token}
    headers = {"Origin": url, "Referer": f"{url}/login"}
    async with http.post(
        f"{url}/login", data=form, headers=headers, allow_redirects=False
    ) as answer:
        if answer.status != 302:
            raise RuntimeError(f"login of {username} answered {answer.status}")


async def logged_in(
    url: str, username: str, index: int, ssl_context: ssl.SSLContext | None = None
) -> aiohttp.ClientSession:
    """A new HTTP session logged in as `username` through the real form."""
    http = http_session(index, ssl_context)
    try:
        await post_login(http, url, username, await login_form(http, url))
    except BaseException:
        await http.close()
        raise
    return http


async def log_in_all(
    url: str,
    names: list[str],
    concurrency: int = 16,
    ssl_context: ssl.SSLContext | None = None,
) -> list[aiohttp.ClientSession]:
    """Log every name in through the form, a few at a time, each from its own address."""
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int) -> aiohttp.ClientSession:
        async with slots:
            return await logged_in(url, names[index], index, ssl_context)

    return list(await asyncio.gather(*(one(index) for index in range(len(names)))))


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) of the samples, nearest rank; nan when empty."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print an aligned plain-text table under a title."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for number, row in enumerate(cells):
        print("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    sys.stdout.flush()


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def load() -> str:
    """The machine's load averages, printed with each table (the benchmarks share the CPU)."""
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def verdict(ok: bool) -> str:
    """The word a table prints for a target met or missed."""
    return "OK" if ok else "MISSED"
