"""`python app.py` as people run it: it serves, migrates by itself and says where to connect."""

from __future__ import annotations

import requests

from app import HTTP_HEADROOM, create_app, server_options


def test_python_app_py_serves_health_and_login(live_server):
    assert requests.get(f"{live_server.url}/health", timeout=5).json() == {"status": "ok"}
    session = live_server.session("admin", "admin123")
    assert "admin" in session.get(f"{live_server.url}/", timeout=5).text


def test_start_up_warns_about_demo_accounts_and_prints_addresses(live_server):
    output = live_server.log_text()
    assert "admin/admin123" in output
    assert f":{live_server.port}/" in output


def test_the_connection_ceiling_reaches_the_server(app, monkeypatch):
    monkeypatch.setenv("MAX_CONNECTIONS", "4321")
    configured = create_app("development")
    assert server_options(configured)["max_size"] == 4321 + HTTP_HEADROOM
    configured.extensions["audit"].close()


def test_production_without_secret_key_exits_with_one_line(tmp_path):
    import subprocess
    import sys

    from tests.live_server import ROOT

    env = {"PATH": "/usr/bin:/bin", "PICHAT_ENV": "production", "LOG_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1]
