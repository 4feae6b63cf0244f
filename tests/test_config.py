"""Settings: every one is read and checked in config.py; a bad value stops start-up in one line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from dotenv import dotenv_values

from config import ConfigError, load_config
from tests.live_server import ROOT

# One bad value per family of setting, and the words the one-line refusal must contain.
BAD_SETTINGS = [
    ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
    ({"RATELIMIT_ENABLED": "2"}, "RATELIMIT_ENABLED must be true or false"),
    ({"PORT": "ochenta"}, "PORT must be a whole number"),
    ({"PORT": "70000"}, "PORT must be from 1 to 65535"),
    ({"CLAMD_PORT": "0"}, "CLAMD_PORT must be from 1 to 65535"),
    ({"MAX_UPLOAD_MB": "0"}, "MAX_UPLOAD_MB must be at least 1"),
    ({"AUDIT_BACKUP_COUNT": "0"}, "AUDIT_BACKUP_COUNT must be at least 1"),
    ({"SCAN_RETRY_SECONDS": "-5"}, "SCAN_RETRY_SECONDS must be at least 1"),
    ({"CHAT_EVENTS_BURST": "x"}, "CHAT_EVENTS_BURST must be a whole number"),
    ({"CLAMD_TIMEOUT": "0"}, "CLAMD_TIMEOUT must be above zero"),
    ({"AUDIT_MAX_MB": "diez"}, "AUDIT_MAX_MB must be a number"),
    ({"PICHAT_ASYNC_MODE": "asyncio"}, "PICHAT_ASYNC_MODE must be one of eventlet, gevent"),
    ({"RATELIMIT_DEFAULT": "muchas"}, "RATELIMIT_DEFAULT must look like"),
    ({"DATABASE_URL": "no es una url"}, "DATABASE_URL is not a database URL"),
    ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must start with redis://"),
    ({"SCAN_BLOCKLIST": "/no/existe.txt"}, "SCAN_BLOCKLIST names a file that cannot be read"),
    ({"TLS_CERT": "/no/existe.pem"}, "TLS_CERT names a file that cannot be read"),
    ({"ALLOWED_TYPES": "application/pdf"}, "ALLOWED_TYPES entry is not 'type/subtype:ext"),
    ({"ALLOWED_TYPES": "application/pdf:.pdf"}, "has a malformed extension"),
    ({"ALLOWED_TYPES": "image/png:png;image/png:png"}, "ALLOWED_TYPES lists image/png twice"),
    ({"CLAMD_SOCKET": "/run/a.sock", "CLAMD_HOST": "127.0.0.1"}, "not both"),
    ({"QUARANTINE_DIR": str(ROOT / "static" / "q")}, "QUARANTINE_DIR must not be inside"),
    ({"LOG_DIR": str(ROOT / "static")}, "LOG_DIR must not be inside"),
    ({"TLS": "maybe"}, "TLS must be one of auto, off"),
    ({"DEBUG": "true", "HOST": "0.0.0.0"}, "DEBUG only with HOST=127.0.0.1"),
    ({"DEBUG": "true", "HOST": "192.168.1.10"}, "DEBUG only with HOST=127.0.0.1"),
    ({"HTTP_HEADER_TIMEOUT": "0"}, "HTTP_HEADER_TIMEOUT must be above zero"),
]


@pytest.mark.parametrize(("env", "reason"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_with_its_name(monkeypatch, env, reason):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=reason):
        load_config("development")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_debug_is_allowed_on_a_loopback_host_in_development(monkeypatch, host):
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("HOST", host)
    assert load_config("development").DEBUG is True


def test_a_bad_pichat_env_is_refused(monkeypatch):
    monkeypatch.setenv("PICHAT_ENV", "staging")
    with pytest.raises(ConfigError, match="PICHAT_ENV must be one of"):
        load_config()


def test_production_behind_no_proxy_refuses_plain_http(monkeypatch):
    monkeypatch.setenv("TLS", "off")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES=1 or more"):
        load_config("production")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert load_config("production").SESSION_COOKIE_SECURE is True


def test_without_pichat_env_the_mode_is_production_with_https(monkeypatch, tmp_path):
    monkeypatch.delenv("PICHAT_ENV", raising=False)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    config = load_config()
    assert (config.TLS, config.SEED_DEMO_USERS, config.SESSION_COOKIE_SECURE) == (
        "auto", False, True)


def test_generated_keys_are_0600_distinct_and_reused(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "instance"))
    first = load_config("production")
    again = load_config("development")
    assert (again.SECRET_KEY, again.AUDIT_KEY) == (first.SECRET_KEY, first.AUDIT_KEY)
    assert first.SECRET_KEY != first.AUDIT_KEY and len(first.SECRET_KEY) == 64
    for name in ("secret_key", "audit_key"):
        assert (tmp_path / "instance" / name).stat().st_mode & 0o777 == 0o600


def test_a_key_from_the_environment_wins_and_nothing_is_written(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "de-la-oficina")
    monkeypatch.setenv("AUDIT_KEY", "otra-de-la-oficina")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    config = load_config("production")
    assert (config.SECRET_KEY, config.AUDIT_KEY) == ("de-la-oficina", "otra-de-la-oficina")
    assert list(tmp_path.iterdir()) == []


def test_settings_parse_into_the_types_the_app_uses(monkeypatch):
    monkeypatch.setenv("ALLOWED_TYPES", " application/pdf:pdf ; image/JPEG:jpg,jpeg")
    monkeypatch.setenv("CLAMD_TIMEOUT", "2.5")
    monkeypatch.setenv("AUDIT_MAX_MB", "0.5")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.lan, ,https://b.lan")
    config = load_config("development")
    expected = {"application/pdf": frozenset({"pdf"}), "image/jpeg": frozenset({"jpg", "jpeg"})}
    assert expected == config.ALLOWED_TYPES
    assert (config.CLAMD_TIMEOUT, config.AUDIT_MAX_MB) == (2.5, 0.5)
    assert config.ALLOWED_ORIGINS == ["https://a.lan", "https://b.lan"]


def start_once(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python app.py` with only `env` (and throwaway storage) in its environment."""
    base = {"PATH": "/usr/bin:/bin", "PICHAT_ENV": "development", "HOST": "127.0.0.1",
            "LOG_DIR": str(tmp_path / "logs"), "QUARANTINE_DIR": str(tmp_path / "q"),
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    return subprocess.run([sys.executable, str(ROOT / "app.py")], env=base | env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("env", "reason"), [
    ({"PORT": "ochenta"}, "PORT must be a whole number"),
    ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
    ({"CLAMD_TIMEOUT": "-1"}, "CLAMD_TIMEOUT must be above zero"),
    ({"REDIS_URL": "localhost"}, "REDIS_URL must start with"),
    ({"ALLOWED_TYPES": "text/html:html"}, "ALLOWED_TYPES admits what is never allowed"),
    ({"SCAN_BLOCKLIST": "__bad_blocklist__"}, "SCAN_BLOCKLIST: "),
    ({"PICHAT_ENV": "production", "TLS": "off"}, "TLS=off needs a TLS proxy in front"),
    ({"TLS": "sometimes"}, "TLS must be one of auto, off"),
])
def test_python_app_py_refuses_a_bad_setting_in_one_line(tmp_path, env, reason):
    if env.get("SCAN_BLOCKLIST") == "__bad_blocklist__":
        bad = tmp_path / "blocklist.txt"
        bad.write_text("esto no es un hash\n")
        env = {"SCAN_BLOCKLIST": str(bad)}
    result = start_once(tmp_path, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith("PiChat no arranca: ") and reason in lines[-1]


def settings_read_by_config() -> set[str]:
    """Every environment variable config.py reads."""
    source = (ROOT / "config.py").read_text()
    return set(re.findall(r'(?:env_\w+|stored_secret)\(\s*"([A-Z_]+)"', source))


def test_env_example_lists_every_setting_and_nothing_else():
    listed = set(dotenv_values(ROOT / ".env.example"))
    assert listed == settings_read_by_config() | {"PICHAT_ENV"}


def test_env_example_as_shipped_starts_production(monkeypatch, tmp_path):
    for name, value in dotenv_values(ROOT / ".env.example").items():
        monkeypatch.setenv(name, value or "")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    config = load_config()
    assert (config.TLS, config.SEED_DEMO_USERS, config.PORT) == ("auto", False, 8080)
