"""The shipped deploy/nginx.conf through Debian's real nginx: a client cannot forge its address.

nginx terminates TLS and PiChat trusts one proxy (TLS=off, TRUSTED_PROXIES=1), so the
audit trail must show the client's real address over HTTP and over the WebSocket, whatever
X-Forwarded-* headers the client sends itself.
"""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from deploy.cluster import NGINX
from deploy.nginx_site import Site, write_config
from deploy.processes import answers_health
from logging_.reader import read_rows
from security.certificates import ensure_certificates, lan_names
from tests.live_server import ROOT, LiveServer, free_port
from tests.login_form import csrf_token
from tests.services import require_service

FORGED = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil.example",
          "X-Forwarded-Proto": "http"}


def shipped_site(pichat_port: int, http_port: int, https_port: int, tls: Path) -> Site:
    """deploy/nginx.conf pointed at this test's ports and certificate, as cluster.sh does."""
    return Site(listen=f"127.0.0.1:{https_port}", upstreams=(pichat_port,),
                static_dir=ROOT / "static", max_body_mb=17, per_client_connections=100,
                header_timeout_seconds=10, certificate=(tls / "server.crt", tls / "server.key"),
                redirect_listen=f"127.0.0.1:{http_port}")


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """PiChat behind nginx: (https URL through nginx, the CA to trust, PiChat's LOG_DIR)."""
    if not Path(NGINX).exists():
        require_service(f"nginx not installed ({NGINX}): apt-get install nginx")
    server = LiveServer(tmp_path / "pichat", TLS="off", TRUSTED_PROXIES="1").start()
    nginx: subprocess.Popen[bytes] | None = None
    try:
        files = ensure_certificates(tmp_path / "tls", lan_names("localhost", [], []))
        http_port, https_port = free_port(), free_port()
        site = shipped_site(server.port, http_port, https_port, tmp_path / "tls")
        main = write_config(tmp_path, site)
        nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                                  "-c", str(main)])
        url = f"https://127.0.0.1:{https_port}"
        deadline = time.monotonic() + 10
        while not answers_health(url, ssl.create_default_context(cafile=files.ca_path)):
            assert time.monotonic() < deadline, "nginx did not pass /health on"
            time.sleep(0.1)
        yield url, files.ca_path, server.root / "logs"
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=30)
        server.stop()


def newest(log_dir: Path, event: str) -> dict[str, str]:
    """The newest audit row of `event`, waiting for the once-a-second flush."""
    deadline = time.monotonic() + 5
    while not (rows := read_rows(str(log_dir), event=event, limit=1)):
        assert time.monotonic() < deadline, f"no {event} row was written"
        time.sleep(0.2)
    return rows[0]


def test_forged_forwarding_headers_never_reach_the_audit_trail(behind_nginx):
    url, ca_path, log_dir = behind_nginx
    http = requests.Session()
    http.verify, http.trust_env = str(ca_path), False
    page = http.get(f"{url}/login", timeout=10)
    answer = http.post(f"{url}/login", timeout=10, allow_redirects=False,
                       headers={**FORGED, "Referer": page.url},
                       data={"username": "cliente", "password": "cliente123",
                             "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert newest(log_dir, "login_success")["ip"] == "127.0.0.1"
    # The browser's Origin header: websocket-client sends it from this option.
    chat = socketio.Client(http_session=http, websocket_extra_options={"origin": url})
    chat.connect(url, headers=FORGED, transports=["websocket"], wait_timeout=30)
    try:
        room = chat.call("create_room", {"code": "tras-nginx", "password": "secreta"}, timeout=30)
        assert room["ok"], room
    finally:
        chat.disconnect()
    assert newest(log_dir, "room_created")["ip"] == "127.0.0.1"


def test_plain_http_to_nginx_is_sent_to_https(behind_nginx, tmp_path):
    site = (tmp_path / "pichat-site.conf").read_text()
    http_port = int(site.split("listen 127.0.0.1:", 1)[1].split(";", 1)[0])
    answer = requests.get(f"http://127.0.0.1:{http_port}/login", allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 308
    assert answer.headers["Location"] == "https://127.0.0.1/login"
