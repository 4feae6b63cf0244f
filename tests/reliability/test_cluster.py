"""deploy/cluster.sh for real: Debian's nginx with TLS in front of two PiChat processes, a
fresh database on the machine's PostgreSQL and a Redis of the module's own.

nginx keeps each client address on one process (`hash $remote_addr consistent`); its access
log names the process that answered, so the tests pick loopback addresses (127.0.0.0/8 is
all this machine) that land on each process and speak from them.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from requests.adapters import HTTPAdapter

from deploy.cluster import NGINX
from deploy.processes import bindable, listening
from logging_.reader import read_rows
from security.certificates import ensure_certificates, lan_names
from tests.live_server import ROOT
from tests.login_form import csrf_token, password_for
from tests.reliability.test_nginx_proxy import FORGED
from tests.reliability.test_redis_restart import DOWN_SECONDS, RECOVERY_SECONDS, delivered_within
from tests.services import RedisDaemon, fresh_postgres_database, require_service
from tests.test_chat_live import next_event

CLUSTER_SH = ROOT / "deploy" / "cluster.sh"
WAIT_SECONDS = 15.0
# Measured: well under a second (the client retries at once, nginx passes it to the other).
RECONNECT_SECONDS = 5.0
# nginx lists every process it tried for a request; the last one answered.
ACCESS_LINE = re.compile(
    r"^(\S+) .*\"GET /health\?probe=(\w+) .* upstream=(?:\S+, )*127\.0\.0\.1:(\d+)$")


class SourceAddress(HTTPAdapter):
    """Connections from one loopback address: another person's machine, to nginx."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Cluster:
    """The running cluster as the tests reach it: its URL, files, and who lands where."""

    def __init__(self, root: Path, redis_url: str, database_url: str) -> None:
        self.port = ports_in_a_row(3)
        self.url = f"https://127.0.0.1:{self.port}"
        self.instance = root / "instance"
        self.run_dir, self.log_dir = self.instance / "run", root / "logs"
        self.ca = ensure_certificates(self.instance / "tls", lan_names("localhost", [], [])).ca_path
        self.env = {
            **os.environ, "PICHAT_ENV": "development", "HOST": "127.0.0.1",
            "PORT": str(self.port), "CLUSTER_PROCESSES": "2", "MAX_UPLOAD_MB": "1",
            "INSTANCE_DIR": str(self.instance), "QUARANTINE_DIR": str(root / "cuarentena"),
            "LOG_DIR": str(self.log_dir), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        }
        self.address_on: dict[int, str] = {}

    def run(self, command: str, **env: str) -> subprocess.CompletedProcess[str]:
        """deploy/cluster.sh `command` with the cluster's environment."""
        return subprocess.run([str(CLUSTER_SH), command], env={**self.env, **env},
                              capture_output=True, text=True, timeout=120)

    def http(self, address: str = "127.0.0.1") -> requests.Session:
        """A requests session from `address` that trusts the cluster's CA alone."""
        http = requests.Session()
        http.verify, http.trust_env = str(self.ca), False
        http.mount("https://", SourceAddress(address))
        return http

    def login(self, username: str, address: str = "127.0.0.1", password: str | None = None,
              headers: dict[str, str] | None = None) -> tuple[requests.Session, requests.Response]:
        """POST the login form from `address` as a browser would; the session and the answer."""
        http = self.http(address)
        page = http.get(f"{self.url}/login", timeout=10)
        answer = http.post(f"{self.url}/login", allow_redirects=False, timeout=30,
                           headers={"Referer": page.url, **(headers or {})},
                           data={"username": username, "password": password_for(username, password),
                                 "csrf_token": csrf_token(page.text)})
        return http, answer

    def upstream_of(self, address: str) -> int:
        """The app port nginx passes `address`'s requests to, read from its access log."""
        probe = os.urandom(6).hex()
        assert self.http(address).get(f"{self.url}/health?probe={probe}", timeout=10).ok
        deadline = time.monotonic() + 5  # nginx logs a request after its answer has left
        while time.monotonic() < deadline:
            for line in (self.run_dir / "nginx-access.log").read_text().splitlines():
                if (found := ACCESS_LINE.match(line)) and found.group(2) == probe:
                    assert found.group(1) == address
                    return int(found.group(3))
            time.sleep(0.05)
        raise AssertionError(f"no access line for the probe from {address}")


def ports_in_a_row(count: int) -> int:
    """A port P such that P..P+count-1 are all free (nginx, then one per app process).

    Below the kernel's ephemeral range (32768 and up), so no outgoing connection takes one
    of them between this check and the processes binding them.
    """
    while True:
        first = secrets.randbelow(12_000) + 20_000
        if all(bindable("127.0.0.1", first + n) for n in range(count)):
            return first


class Person:
    """Someone on the cluster: a logged-in session and a Socket.IO client over nginx.

    From 127.0.0.1 the client speaks WebSocket (and reconnects when asked to); from another
    `address` it long-polls, each request from that address, as a browser does when
    websockets are blocked: websocket-client cannot choose its source address.
    """

    def __init__(self, cluster: Cluster, username: str, address: str = "127.0.0.1",
                 reconnect: bool = False, http: requests.Session | None = None) -> None:
        self.cluster, self.address = cluster, address
        if http is None:
            http, answer = cluster.login(username, address)
            assert answer.status_code == 302, answer.text
        self.http = http
        self.inbox: queue.Queue[tuple[str, object]] = queue.Queue()
        self.sio = socketio.Client(reconnection=reconnect, reconnection_delay=0.2,
                                   reconnection_delay_max=1, http_session=self.http,
                                   websocket_extra_options={"origin": cluster.url})
        self.sio.on("*", lambda event, *args: self.inbox.put((event, args[0] if args else None)))
        self.sio.on("connect", lambda: self.inbox.put(("connect", None)))

    def connect(self, headers: dict[str, str] | None = None) -> Person:
        """Open the Socket.IO connection through nginx."""
        headers = dict(headers or {})
        if self.address == "127.0.0.1":
            transport = "websocket"  # websocket-client sends the Origin from its options
        else:
            transport, headers["Origin"] = "polling", self.cluster.url
        self.sio.connect(self.cluster.url, headers=headers, transports=[transport],
                         wait_timeout=WAIT_SECONDS)
        return self

    def close(self) -> None:
        """Go, as a closed tab does: engine.io's close, without waiting for a last long poll
        to come back (python-socketio's disconnect waits up to the 25-s ping interval)."""
        self.sio.eio.disconnect(abort=True)

    def call(self, event: str, payload: object) -> dict:
        """Emit and wait for the ack."""
        return self.sio.call(event, payload, timeout=WAIT_SECONDS)

    def next_message(self, room: str, sender: str) -> dict:
        """The next message `sender` wrote in `room`, skipping every other event."""
        while (message := self.next_event("message"))["room"] != room or (
                message["user"] != sender):
            pass
        return message

    def next_event(self, name: str, seconds: float = WAIT_SECONDS) -> Any:
        """The payload of the next `name` event, skipping the others."""
        return next_event(self.inbox, name, seconds)


@pytest.fixture(scope="module")
def own_redis_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisDaemon]:
    """A redis-server of the module's own, which the Redis test stops and starts."""
    daemon = RedisDaemon(tmp_path_factory.mktemp("redis"))
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory,
            own_redis_daemon: RedisDaemon) -> Iterator[Cluster]:
    """`deploy/cluster.sh start` on a fresh PostgreSQL database; stopped and dropped after."""
    if not Path(NGINX).exists():
        require_service(f"nginx is not installed ({NGINX}): apt-get install nginx")
    with fresh_postgres_database() as database_url:
        running = Cluster(tmp_path_factory.mktemp("cluster"), own_redis_daemon.url, database_url)
        try:
            started = running.run("start")
            assert started.returncode == 0, started.stderr
            for n in range(2, 40):
                address = f"127.0.0.{n}"
                running.address_on.setdefault(running.upstream_of(address), address)
                if len(running.address_on) == 2:
                    break
            yield running
        finally:
            running.run("stop")


def other_port(cluster: Cluster, port: int) -> int:
    """The app process that is not `port`."""
    return next(p for p in cluster.address_on if p != port)


def test_start_runs_nginx_and_one_process_per_port_and_status_lists_them(cluster):
    answer = cluster.run("status")
    assert answer.returncode == 0, answer.stdout
    pids = {path.stem: path.read_text().strip() for path in cluster.run_dir.glob("*-*.pid")}
    assert set(pids) == {f"nginx-{cluster.port}", f"app-{cluster.port + 1}",
                         f"app-{cluster.port + 2}"}
    for name, pid in pids.items():
        kind, port = name.split("-")
        assert re.search(rf"^{kind}\s+pid {pid}\s+puerto {port}\s+en marcha$", answer.stdout,
                         re.M), answer.stdout
    assert set(cluster.address_on) == {cluster.port + 1, cluster.port + 2}


def test_static_files_come_from_nginx_itself(cluster):
    answer = cluster.http().get(f"{cluster.url}/static/js/chat.js", timeout=10)
    assert answer.status_code == 200 and answer.headers["X-Content-Type-Options"] == "nosniff"
    # PiChat sets a CSP on everything it serves: this file never reached a process.
    assert "Content-Security-Policy" not in answer.headers


def test_plain_http_to_the_tls_port_is_sent_to_https(cluster):
    answer = requests.get(f"http://127.0.0.1:{cluster.port}/login", allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 308
    assert answer.headers["Location"] == f"https://127.0.0.1:{cluster.port}/login"


def test_login_lobby_and_room_chat_cross_processes(cluster):
    admin = Person(cluster, "admin").connect()
    away = other_port(cluster, cluster.upstream_of("127.0.0.1"))
    cliente = Person(cluster, "cliente", cluster.address_on[away]).connect()
    try:
        assert admin.call("send_message", {"room": "lobby", "text": "hola a todos"})["ok"]
        assert cliente.next_message("lobby", "admin")["text"] == "hola a todos"
        assert admin.call("create_room", {"code": "sala-cruzada", "password": "secreta"})["ok"]
        joined = cliente.call("join_room", {"code": "sala-cruzada", "password": "secreta"})
        assert joined["members"] == ["admin", "cliente"]
        assert cliente.call("send_message", {"room": "sala-cruzada", "text": "de B a A"})["ok"]
        assert admin.next_message("sala-cruzada", "cliente")["text"] == "de B a A"
    finally:
        admin.close()
        cliente.close()


def audited(log_dir: Path, event: str, since: datetime) -> dict[str, str]:
    """The newest audit row of `event` written since `since`, waiting for the flush."""
    deadline = time.monotonic() + 5
    while not (rows := read_rows(str(log_dir), event=event, since=since, limit=1)):
        assert time.monotonic() < deadline, f"no {event} row was written"
        time.sleep(0.2)
    return rows[0]


def test_forwarding_headers_sent_by_a_client_are_not_believed(cluster):
    address, before = "127.0.0.77", datetime.now(UTC)
    _, answer = cluster.login("cliente", address, headers=FORGED)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert audited(cluster.log_dir, "login_success", before)["ip"] == address
    # Over WebSocket (from 127.0.0.1, the only address websocket-client speaks from).
    person = Person(cluster, "admin").connect(headers=FORGED)
    try:
        assert person.call("create_room", {"code": "sin-disfraz", "password": "secreta"})["ok"]
    finally:
        person.close()
    assert audited(cluster.log_dir, "room_created", before)["ip"] == "127.0.0.1"


def upload(cluster: Cluster, http: requests.Session, data: bytes) -> requests.Response:
    """POST one text file to /api/files as the files page does (CSRF token and Referer)."""
    page = http.get(f"{cluster.url}/files", timeout=10)
    return http.post(f"{cluster.url}/api/files", files={"file": ("nota.txt", data, "text/plain")},
                     headers={"X-CSRFToken": csrf_token(page.text), "Referer": page.url},
                     timeout=30)


def test_upload_limits_are_shared_across_processes(cluster):
    sessions = [cluster.login("cliente", address)[0] for address in cluster.address_on.values()]
    too_big = upload(cluster, sessions[0], b"x" * (3 * 1024 * 1024))
    assert (too_big.status_code, too_big.json()["error"]) == (413, "too_large")
    answers = [upload(cluster, sessions[n % 2], f"nota {n}".encode()).status_code
               for n in range(6)]
    # Five uploads a minute per account, counted in Redis whichever process took each.
    assert answers == [201] * 5 + [429]


def test_a_lockout_is_shared_across_processes(cluster):
    addresses = list(cluster.address_on.values())
    for attempt in range(5):
        _, answer = cluster.login("usuario", addresses[attempt % 2], password="no-es-esta")
        assert answer.status_code == 401
    for address in addresses:
        _, answer = cluster.login("usuario", address)
        assert answer.status_code == 429, "the right password is refused while locked"


def test_redis_restart_fails_messages_plainly_then_chat_is_back_within_5_s(cluster,
                                                                           own_redis_daemon):
    admin = Person(cluster, "admin").connect()
    away = other_port(cluster, cluster.upstream_of("127.0.0.1"))
    cliente = Person(cluster, "cliente", cluster.address_on[away]).connect()
    try:
        assert delivered_within(admin, cliente, RECOVERY_SECONDS) is not None
        own_redis_daemon.stop()
        try:
            lost = admin.call("send_message", {"room": "lobby", "text": "¿me oís?"})
            assert (lost["ok"], lost["error"]) == (False, "internal")
            assert "no puede entregar mensajes" in lost["message"]
            time.sleep(DOWN_SECONDS)
        finally:
            own_redis_daemon.start()
        assert delivered_within(admin, cliente, RECOVERY_SECONDS) is not None
        assert admin.sio.connected and cliente.sio.connected
    finally:
        admin.close()
        cliente.close()


def test_a_killed_process_clients_reconnect_through_nginx_and_chat_on(cluster):
    doomed = cluster.upstream_of("127.0.0.1")
    survivor = other_port(cluster, doomed)
    admin = Person(cluster, "admin", reconnect=True).connect()
    cliente = Person(cluster, "cliente", cluster.address_on[survivor]).connect()
    try:
        assert admin.call("create_room", {"code": "sigue-viva", "password": "secreta"})["ok"]
        assert cliente.call("join_room", {"code": "sigue-viva", "password": "secreta"})["ok"]
        killed = time.monotonic()
        os.kill(int((cluster.run_dir / f"app-{doomed}.pid").read_text()), signal.SIGKILL)
        # The account's rooms come back on the new socket, on the other process.
        while "sigue-viva" not in {room["room"] for room in admin.next_event("rooms")["rooms"]}:
            pass
        admin.next_event("connect")  # python-socketio hands on `rooms` before the connect ack
        assert time.monotonic() - killed < RECONNECT_SECONDS
        assert cluster.upstream_of("127.0.0.1") == survivor
        assert admin.call("send_message", {"room": "sigue-viva", "text": "sigo aquí"})["ok"]
        assert cliente.next_message("sigue-viva", "admin")["text"] == "sigo aquí"
        assert cliente.call("send_message", {"room": "sigue-viva", "text": "te leo"})["ok"]
        assert admin.next_message("sigue-viva", "cliente")["text"] == "te leo"
    finally:
        admin.close()
        cliente.close()
    assert re.search(rf"^app\s+pid \d+\s+puerto {doomed}\s+detenido$", cluster.run("status").stdout,
                     re.M)


def test_stop_leaves_nothing_listening(cluster):
    stopped = cluster.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    for port in (cluster.port, cluster.port + 1, cluster.port + 2):
        assert not listening("127.0.0.1", port), f"something still listens on {port}"
    assert list(cluster.run_dir.glob("*-*.pid")) == []
    status = cluster.run("status")
    assert (status.returncode, status.stdout.strip()) == (3, "el clúster no está en marcha")


def test_start_refuses_without_a_shared_database_or_redis(tmp_path):
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"}
    env.pop("DATABASE_URL", None)
    answer = subprocess.run([str(CLUSTER_SH), "start"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert answer.returncode == 1
    assert answer.stderr.startswith("cluster.sh: falta DATABASE_URL")
    assert len(answer.stderr.strip().splitlines()) == 1
