"""`python app.py` as people run it: it serves, migrates by itself and says where to connect."""

from __future__ import annotations

import requests

from app import DEMO_WARNING, HTTP_HEADROOM, connection_ceiling
from config import load_config


def test_python_app_py_serves_health_and_login(live_server):
    assert requests.get(f"{live_server.url}/health", timeout=5).json() == {"status": "ok"}
    session = live_server.session("admin")
    assert "admin" in session.get(f"{live_server.url}/", timeout=5).text


def test_start_up_warns_about_demo_accounts_and_prints_addresses(live_server):
    output = live_server.log_text()
    assert "admin/admin123" in output
    assert f":{live_server.port}/" in output


def test_the_connection_ceiling_leaves_room_for_pages(monkeypatch):
    monkeypatch.setenv("MAX_CONNECTIONS", "4321")
    assert connection_ceiling(vars(load_config("development"))) == 4321 + HTTP_HEADROOM


def test_demo_mode_warns_on_every_page_it_serves(live_server):
    for path in ("/login", "/ca"):
        assert DEMO_WARNING in requests.get(f"{live_server.url}{path}", timeout=5).text
    chat = live_server.session("usuario").get(f"{live_server.url}/", timeout=5)
    assert DEMO_WARNING in chat.text


def test_plain_http_demo_offers_no_certificate_to_install(live_server):
    login = requests.get(f"{live_server.url}/login", timeout=5).text
    assert 'href="/ca"' not in login
    assert requests.get(f"{live_server.url}/ca.crt", timeout=5).status_code == 404
