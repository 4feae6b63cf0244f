"""Pytest fixtures that find or start real services (Redis, PostgreSQL, clamd) for the tests,
or skip when absent; and the daemons a test may own and restart (redis-server, PostgreSQL).

Set PICHAT_REQUIRE_SERVICES=1 (CI does) to turn a missing service into a failure.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NoReturn

import pytest

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
CLAMD_START_SECONDS = 30.0
CLAMD_STOP_SECONDS = 10.0
# A body signature for the EICAR string: clamd refuses to start with no database at all,
# and there is no network here to fetch the official one.
CLAMD_TEST_SIGNATURE = "PiChat.Test.EICAR"
_EICAR_BODY = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


def require_service(reason: str) -> NoReturn:
    """Skip the test for a missing service, or fail it when PICHAT_REQUIRE_SERVICES=1."""
    if os.environ.get("PICHAT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (PICHAT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def find_clamd() -> str | None:
    """Return the clamd binary's path, or None when ClamAV's daemon is not installed."""
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if os.access("/usr/sbin/clamd", os.X_OK) else None


def clamd_config(workdir: Path, overrides: Mapping[str, str] | None = None) -> str:
    """Return a clamd.conf keeping everything under workdir; ``overrides`` replace settings."""
    settings = {
        "LocalSocket": str(workdir / "clamd.sock"),
        "FixStaleSocket": "yes",
        "DatabaseDirectory": str(workdir),
        "TemporaryDirectory": str(workdir),
        "LogFile": str(workdir / "clamd.log"),
        "PidFile": str(workdir / "clamd.pid"),
        "Foreground": "yes",
        "StreamMaxLength": "64M",
        "MaxFileSize": "64M",
        "MaxScanSize": "256M",
        # Without it clamd answers "OK" for a file past MaxFileSize that it never scanned.
        "AlertExceedsMax": "yes",
        **(overrides or {}),
    }
    return "".join(f"{key} {value}\n" for key, value in settings.items())


class ClamdDaemon:
    """A clamd subprocess on a private socket, which tests may stop and start again."""

    def __init__(self, binary: str, workdir: Path,
                 settings: Mapping[str, str] | None = None) -> None:
        self.binary = binary
        self.workdir = workdir
        self.socket = str(workdir / "clamd.sock")
        self.config_path = workdir / "clamd.conf"
        self.log_path = workdir / "clamd.log"
        self._process: subprocess.Popen[bytes] | None = None
        (workdir / "custom.ndb").write_text(
            f"{CLAMD_TEST_SIGNATURE}:0:*:{_EICAR_BODY.hex()}\n", encoding="ascii")
        self.config_path.write_text(clamd_config(workdir, settings), encoding="ascii")

    @property
    def running(self) -> bool:
        """Return True while the subprocess is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start clamd (no-op when running) and wait until it answers PONG."""
        if self.running:
            return
        with open(self.workdir / "clamd.out", "ab") as out:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + CLAMD_START_SECONDS
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"clamd exited at start:\n{self._log_tail()}")
            if _ping(self.socket):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"clamd did not answer PING in {CLAMD_START_SECONDS} s")

    def stop(self) -> None:
        """Stop clamd (SIGTERM, then SIGKILL) and wait for it to exit."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=CLAMD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _log_tail(self) -> str:
        lines = []
        for name in ("clamd.out", "clamd.log"):
            path = self.workdir / name
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()[-20:]
        return "\n".join(lines)


class FakeClamd:
    """A scripted clamd on a unix socket, for replies a real daemon will not easily give.

    ``reply`` answers INSTREAM: bytes as given (b"" closes without a word), or None to
    read the stream and then never answer. ``early`` answers after the first chunk and
    hangs up, as clamd does when StreamMaxLength is exceeded.
    """

    version_reply = b"ClamAV 0.0.0/1/fake\0"

    def __init__(self, socket_path: str, reply: bytes | None, early: bool = False) -> None:
        self.socket = socket_path
        self.reply, self.early = reply, early
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(socket_path)
        self._listener.listen(8)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the socket."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            # A client that gave up (timeout test) closes mid-answer; that is expected.
            with conn, contextlib.suppress(OSError):
                conn.settimeout(5)
                self._answer(conn, _read_until_nul(conn))

    def _answer(self, conn: socket.socket, command: bytes) -> None:
        if command == b"zVERSION":
            conn.sendall(self.version_reply)
        elif command == b"zPING":
            conn.sendall(b"PONG\0")
        elif command == b"zINSTREAM":
            while (size := struct.unpack(">I", _recv_exact(conn, 4))[0]) and not self.early:
                _recv_exact(conn, size)
            if self.reply is None:
                self._stop.wait()
            else:
                conn.sendall(self.reply)


def _read_until_nul(conn: socket.socket) -> bytes:
    data = b""
    while (byte := conn.recv(1)) not in (b"", b"\0"):
        data += byte
    return data


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = conn.recv(size - len(data))
        if not part:
            raise ConnectionError("client closed mid-stream")
        data += part
    return data


def _ping(socket_path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(1.0)
            conn.connect(socket_path)
            conn.sendall(b"zPING\0")
            return conn.recv(16).startswith(b"PONG")
    except OSError:
        return False


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

    url = postgres_admin_url()
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
    except psycopg.Error as exc:
        require_service(f"PostgreSQL not reachable at {url}: {exc}")
    return sqlalchemy_url(url)


def start_clamd(workdir: Path, **settings: str) -> ClamdDaemon:
    """Start a clamd in workdir (``settings`` override clamd.conf); skip when not installed."""
    binary = find_clamd()
    if binary is None:
        require_service("clamd not installed: apt-get install clamav-daemon")
    daemon = ClamdDaemon(binary, workdir, settings)
    daemon.start()
    return daemon


@pytest.fixture(scope="session")
def clamd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdDaemon]:
    """A real clamd with a one-signature database, on a unix socket in a temp dir."""
    daemon = start_clamd(tmp_path_factory.mktemp("clamd"))
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def clamd(clamd_daemon: ClamdDaemon) -> ClamdDaemon:
    """The session clamd, started again if an earlier test stopped it."""
    clamd_daemon.start()
    return clamd_daemon


@pytest.fixture
def fake_clamd(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., FakeClamd]]:
    """Factory: ``fake_clamd(reply, early=False)`` serves a scripted clamd, closed after."""
    fakes: list[FakeClamd] = []

    def start(reply: bytes | None, early: bool = False) -> FakeClamd:
        # A short directory: a unix socket path must fit in 108 bytes.
        path = str(tmp_path_factory.mktemp("fake") / "clamd.sock")
        fakes.append(FakeClamd(path, reply, early))
        return fakes[-1]

    yield start
    for fake in fakes:
        fake.close()


def postgres_admin_url() -> str:
    """The machine's PostgreSQL, as a role that may create databases (psycopg's URL form)."""
    return os.environ.get("PICHAT_TEST_POSTGRES_URL", POSTGRES_ADMIN_URL)


def sqlalchemy_url(url: str) -> str:
    """A postgresql:// URL as PiChat's DATABASE_URL (SQLAlchemy with psycopg 3)."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_postgres_database(prefix: str = "pichat") -> str:
    """A new empty database `<prefix>_<random>` on the machine's PostgreSQL; its DATABASE_URL.

    Skips (or fails under PICHAT_REQUIRE_SERVICES=1) when PostgreSQL cannot be reached.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = postgres_admin_url()
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        require_service(f"PostgreSQL not reachable at {admin}: {exc}")
    url = make_url(sqlalchemy_url(admin)).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database, closing whatever still uses it."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(postgres_admin_url(), connect_timeout=3, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "pichat") -> Iterator[str]:
    """A new database on the machine's PostgreSQL for the block, dropped after."""
    url = create_postgres_database(prefix)
    try:
        yield url
    finally:
        drop_postgres_database(url)


class RedisDaemon:
    """A redis-server of the test's own, with no persistence (a restart forgets everything)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            require_service("redis-server is not installed (apt install redis-server)")
        self.binary, self.workdir, self.port = binary, workdir, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start redis-server and wait until it answers PING."""
        import redis

        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop redis-server and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisDaemon]:
    """A redis-server of this test's own on a free port, which the test may stop and start."""
    daemon = RedisDaemon(tmp_path)
    daemon.start()
    yield daemon
    daemon.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresDaemon:
    """A PostgreSQL server of the test's own (initdb in a temp folder, a free port), which
    the test may stop and start. As root it runs as the `postgres` account, which must own
    its data folder: the folder is made outside pytest's root-only tmp_path."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            require_service("PostgreSQL server binaries not installed (apt install postgresql)")
        self.bin = found[-1].parent
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pichat-pg-"))
        self.data = self.root / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    def initdb(self) -> PostgresDaemon:
        """Create the cluster (trust on loopback, no fsync: throwaway data)."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "30", "start")

    def stop(self) -> None:
        """Stop the server at once (fast shutdown: open sessions are cut)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def remove(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_owner, str(self.bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}")


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresDaemon]:
    """A PostgreSQL server of this module's own on a free port, started; removed after."""
    daemon = PostgresDaemon().initdb()
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.remove()
