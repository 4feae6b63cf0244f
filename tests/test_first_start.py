"""Production with nothing configured, as a new office runs it: keys, HTTPS, the setup link."""

from __future__ import annotations

import re
import socket
import ssl
import stat
from pathlib import Path

import pytest
import requests

from app import prepare_database
from logging_.reader import read_rows
from tests.live_server import LiveServer

SETUP_LINK = re.compile(r"(https://\S+/setup\?token=[\w-]+)")
STRONG = "caballo-grapa-bateria-7"


@pytest.fixture
def production(tmp_path: Path):
    """`python app.py` in production with no settings but where to keep its data."""
    server = LiveServer(tmp_path / "server", tls=True, PICHAT_ENV="production",
                        TLS_NAMES="pichat.lan").start()
    yield server
    server.stop()


def setup_link(server: LiveServer) -> str:
    """The one-time link the console printed."""
    found = SETUP_LINK.findall(server.log_text())
    assert found, f"no setup link printed:\n{server.log_text()}"
    return found[-1]


def setup_form(http: requests.Session, server: LiveServer, link: str,
               password: str = STRONG) -> requests.Response:
    """Open the link and fill the form (the password twice), as a person would."""
    page = http.get(link, timeout=10)
    assert page.status_code == 200 and "Cree la cuenta de administración" in page.text
    token = link.rsplit("token=", 1)[1]
    return server.post(http, "/setup", {
        "token": token, "username": "jefa", "password": password, "password_again": password,
    }, page=page)


def handshake_as(server: LiveServer, name: str) -> None:
    """A TLS handshake that trusts only the CA and checks the certificate carries `name`."""
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_a_fresh_start_serves_https_from_its_own_ca_with_keys_kept_private(production):
    instance = production.root / "instance"
    for key in ("secret_key", "audit_key", "tls/ca.key", "tls/server.key"):
        assert stat.S_IMODE((instance / key).stat().st_mode) == 0o600, key
    assert (instance / "secret_key").read_text() != (instance / "audit_key").read_text()
    served = requests.get(f"{production.url}/ca.crt", verify=production.ca_path, timeout=10)
    assert served.status_code == 200 and served.content == production.ca_path.read_bytes()
    for name in ("127.0.0.1", "localhost", "pichat.lan"):
        handshake_as(production, name)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake_as(production, "otro.lan")
    fingerprint = production.fingerprint()
    assert fingerprint in production.log_text()
    guide = requests.get(f"{production.url}/ca", verify=production.ca_path, timeout=10)
    assert fingerprint in guide.text and "Android" in guide.text and "iOS" in guide.text


def test_plain_http_on_the_same_port_is_redirected_to_https(production):
    answer = requests.get(f"{production.http_url}/login?next=/files", allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 308
    assert answer.headers["Location"] == f"{production.url}/login?next=/files"
    login = requests.get(f"{production.url}/login", verify=production.ca_path, timeout=10)
    assert login.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in login.headers["Set-Cookie"]
    assert 'href="/ca"' in login.text


def test_no_demo_account_exists_in_production(production):
    for username, password in (("admin", "admin123"), ("cliente", "cliente123")):
        answer = production.post(production.client(), "/login",
                                 {"username": username, "password": password})
        assert answer.status_code == 401


def test_the_setup_link_creates_the_administrator_once_and_logs_them_in(production):
    link = setup_link(production)
    http = production.client()
    wrong = http.get(link[:-3] + "xyz", timeout=10)
    assert wrong.status_code == 403 and "no es válido" in wrong.text
    weak = setup_form(http, production, link, "corta")
    assert weak.status_code == 400 and "al menos 10 caracteres" in weak.text
    done = setup_form(http, production, link)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    chat = http.get(f"{production.url}/", timeout=10)
    assert chat.status_code == 200 and 'data-username="jefa"' in chat.text
    assert http.get(link, timeout=10).status_code == 404
    events = [row["event"] for row in read_rows(str(production.root / "logs"), limit=50)]
    assert "setup_completed" in events and "access_denied" in events


def test_a_session_survives_a_restart_because_the_key_was_kept(production):
    http = production.client()
    assert setup_form(http, production, setup_link(production)).status_code == 302
    key = (production.root / "instance" / "secret_key").read_text()
    production.stop()
    production.start()
    assert (production.root / "instance" / "secret_key").read_text() == key
    assert "setup?token=" not in production.log_text().rsplit("PiChat disponible", 1)[-1]
    chat = http.get(f"{production.url}/", allow_redirects=False, timeout=10)
    assert chat.status_code == 200 and 'data-username="jefa"' in chat.text



def test_guessing_the_setup_token_is_refused_audited_and_rate_limited(
    another_app, read_audit, tmp_path
):
    fresh = another_app("production", DATABASE_URL=f"sqlite:///{tmp_path / 'vacia.db'}")
    prepare_database(fresh)
    answers = [fresh.test_client().get(f"/setup?token=intento{n}").status_code
               for n in range(11)]
    assert answers == [403] * 10 + [429]
    refused = [row for row in read_audit(fresh) if row["event"] == "access_denied"]
    assert len(refused) == 10 and refused[0]["target"] == "/setup"
