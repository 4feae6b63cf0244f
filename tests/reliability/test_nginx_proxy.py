"""The shipped deploy/nginx.conf through Debian's real nginx: a client cannot forge its address.

nginx terminates TLS and PiChat trusts one proxy (TLS=off, TRUSTED_PROXIES=1), so the
audit trail must show the client's real address over HTTP and over the WebSocket, whatever
X-Forwarded-* headers the client sends itself.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from logging_.reader import read_rows
from security.certificates import ensure_certificates, lan_names
from tests.live_server import ROOT, LiveServer, free_port
from tests.login_form import csrf_token
from tests.services import require_service

FORGED = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil.example",
          "X-Forwarded-Proto": "http"}


def shipped_config(pichat_port: int, http_port: int, https_port: int, tls: Path) -> str:
    """deploy/nginx.conf pointed at this test's ports and certificate."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = "    server 127.0.0.1:8081;\n    server 127.0.0.1:8082;\n"
    assert upstream in site and "listen 80;" in site and "listen 443 ssl;" in site
    return (site.replace(upstream, f"    server 127.0.0.1:{pichat_port};\n")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
            .replace("/etc/ssl/pichat/server.crt", str(tls / "server.crt"))
            .replace("/etc/ssl/pichat/server.key", str(tls / "server.key")))


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """PiChat behind nginx: (https URL through nginx, the CA to trust, PiChat's LOG_DIR)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        require_service("nginx not installed: apt-get install nginx")
    server = LiveServer(tmp_path / "pichat", TLS="off", TRUSTED_PROXIES="1").start()
    tls = tmp_path / "tls"
    files = ensure_certificates(tls, lan_names("localhost", [], []))
    http_port, https_port = free_port(), free_port()
    (tmp_path / "site.conf").write_text(shipped_config(server.port, http_port, https_port, tls))
    (tmp_path / "nginx.conf").write_text(
        f"user root;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n  access_log off;\n"
        f"  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n"
    )
    command = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    subprocess.run(command, check=True, timeout=30, capture_output=True)
    try:
        url = f"https://127.0.0.1:{https_port}"
        deadline = time.monotonic() + 10
        while requests.get(f"{url}/health", verify=files.ca_path, timeout=2).status_code != 200:
            assert time.monotonic() < deadline, "nginx did not pass /health on"
            time.sleep(0.1)
        yield url, files.ca_path, server.root / "logs"
    finally:
        subprocess.run([*command, "-s", "stop"], timeout=30, capture_output=True)
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
    site = (tmp_path / "site.conf").read_text()
    http_port = int(site.split("listen 127.0.0.1:", 1)[1].split(";", 1)[0])
    answer = requests.get(f"http://127.0.0.1:{http_port}/login", allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 308
    assert answer.headers["Location"] == "https://127.0.0.1/login"
