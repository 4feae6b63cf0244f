"""deploy/ checked against the code: no Docker engine or systemd runs here, so the compose
file and the units are read and compared with what PiChat really reads and serves; the
nginx template is rendered for plain HTTP and TLS and checked by nginx itself."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from config import load_config
from deploy.cluster import NGINX
from deploy.nginx_site import TEMPLATE, Site, TemplateError, render_site, write_config
from tests.live_server import ROOT
from tests.services import require_service

DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = ("pichat-1", "pichat-2")
SHIPPED = TEMPLATE.read_text()


def documented_settings() -> set[str]:
    """The names .env.example lists (the settings PiChat reads)."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))


def directive(name: str, text: str = SHIPPED) -> list[str]:
    """The values of every `name` directive in an nginx file."""
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, re.M)


def upstream_ports() -> list[int]:
    """The app ports the shipped nginx.conf passes requests to."""
    block = re.search(r"upstream pichat \{(.*?)\}", SHIPPED, re.S).group(1)
    return [int(port) for port in re.findall(r"server 127\.0\.0\.1:(\d+);", block)]


def test_compose_runs_nginx_two_processes_redis_postgres_and_clamav():
    assert set(SERVICES) == {"setup", *APPS, "nginx", "redis", "postgres", "clamav"}
    assert SERVICES["clamav"]["image"].startswith("clamav/clamav:")
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    for name, service in SERVICES.items():
        if name != "setup":
            assert service["healthcheck"]["test"], f"{name} has no health check"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["python", "app.py"]' in dockerfile
    for app in APPS:
        assert SERVICES[app]["command"] == ["python", "app.py"]
    setup = " ".join(SERVICES["setup"]["command"])
    assert "flask --app app db upgrade" in setup and "flask --app app tls renew" in setup
    for app in APPS:
        assert SERVICES[app]["depends_on"]["setup"]["condition"] == \
            "service_completed_successfully"


@pytest.mark.parametrize("name", ["setup", *APPS])
def test_compose_settings_are_pichat_settings_that_start_it(name, monkeypatch, tmp_path):
    environment = {key: str(value) for key, value in SERVICES[name]["environment"].items()}
    assert set(environment) <= documented_settings()
    for key, value in environment.items():
        monkeypatch.setenv(key, "" if value.startswith("${") else value)
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("AUDIT_KEY", "a" * 64)
    config = load_config()  # PICHAT_ENV=production from the compose file: it must not refuse
    assert (config.TLS, config.TRUSTED_PROXIES) == ("off", 1)
    database, url = SERVICES["postgres"]["environment"], config.SQLALCHEMY_DATABASE_URI
    assert url == f"postgresql+psycopg://{database['POSTGRES_USER']}@postgres/{database['POSTGRES_DB']}"
    assert config.REDIS_URL.startswith("redis://redis:")
    assert config.CLAMD_HOST == "clamav"
    volumes = {volume.split(":")[1] for volume in SERVICES[name]["volumes"]}
    assert {config.INSTANCE_DIR, config.QUARANTINE_DIR, config.LOG_DIR} <= volumes


def test_compose_ports_match_the_shipped_nginx_conf():
    ports = sorted(int(SERVICES[app]["environment"]["PORT"]) for app in APPS)
    assert ports == upstream_ports()
    for app in APPS:
        assert SERVICES[app]["network_mode"] == "service:nginx"
        assert "ports" not in SERVICES[app]
    nginx = SERVICES["nginx"]
    listening = sorted(int(value.split()[0]) for value in directive("listen"))
    assert sorted(int(port.split(":")[1]) for port in nginx["ports"]) == listening
    mounts = dict(reversed(volume.rsplit(":", 2)[:2]) for volume in nginx["volumes"])
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./nginx.conf"
    assert mounts["/etc/ssl/pichat"] == "pichat-tls"
    assert {Path(path).parent.as_posix() for path in
            directive("ssl_certificate") + directive("ssl_certificate_key")} == {"/etc/ssl/pichat"}
    assert mounts["/opt/pichat/static"] == "../static"
    assert directive("alias") == ["/opt/pichat/static/"]


def test_compose_references_files_that_exist():
    for name, service in SERVICES.items():
        if "build" in service:
            context = (DEPLOY / service["build"]["context"]).resolve()
            assert context == ROOT and (context / service["build"]["dockerfile"]).is_file()
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is missing"
            else:
                assert source in COMPOSE["volumes"], f"{name} mounts undeclared volume {source}"


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's settings: key -> every value it is given."""
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_systemd_units_run_the_app_with_documented_settings():
    single, per_port = unit("pichat@.service"), unit("pichat-migrate.service")
    home = single["WorkingDirectory"][0]
    assert single["ExecStart"] == [f"{home}/.venv/bin/python app.py"]
    assert (ROOT / "app.py").is_file() and "VENV := .venv" in (ROOT / "Makefile").read_text()
    assert per_port["ExecStart"] == [f"{home}/.venv/bin/flask --app app db upgrade"]
    assert single["EnvironmentFile"] == per_port["EnvironmentFile"] == [f"-{home}/.env"]
    environment = dict(pair.split("=") for pair in single["Environment"][0].split())
    assert environment == {"PICHAT_ENV": "production", "TLS": "off", "TRUSTED_PROXIES": "1",
                           "PORT": "%i", "HOST": "127.0.0.1"}
    assert set(environment) <= documented_settings()
    assert single["Requires"] == ["pichat-migrate.service"]
    enabled = re.search(r"systemctl enable --now (.+)", (DEPLOY / "pichat@.service").read_text())
    assert [int(name.split("@")[1]) for name in enabled.group(1).split()] == upstream_ports()


def test_make_cluster_runs_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^cluster: .*\n\tdeploy/cluster\.sh start$", makefile, re.M)
    assert re.search(r"^cluster-stop:\n\tdeploy/cluster\.sh stop$", makefile, re.M)
    script = DEPLOY / "cluster.sh"
    assert os.access(script, os.X_OK)
    assert script.read_text().rstrip().endswith('-m deploy.cluster "$@"')


def test_the_shipped_conf_keeps_clients_sticky_and_every_location_forwarding():
    assert directive("hash") == ["$remote_addr consistent"] and not directive("ip_hash")
    proxied = re.findall(r"location [^{]+\{([^}]*proxy_pass[^}]*)\}", SHIPPED)
    assert len(proxied) == 2
    for block in proxied:
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in block
        assert "proxy_set_header X-Forwarded-Proto $scheme;" in block
        assert "proxy_set_header X-Forwarded-Host $http_host;" in block


PLAIN = Site(listen="127.0.0.1:9000", upstreams=(9001, 9002, 9003),
             static_dir=Path("/srv/pichat/static"), max_body_mb=5, per_client_connections=7,
             header_timeout_seconds=3)


def test_a_plain_http_site_has_no_tls_and_every_process_upstream():
    site = render_site(SHIPPED, PLAIN)
    assert directive("listen", site) == ["127.0.0.1:9000"]
    assert not directive("ssl_certificate", site) and "error_page 497" not in site
    assert re.findall(r"server 127\.0\.0\.1:(\d+);", site) == ["9001", "9002", "9003"]
    assert directive("client_max_body_size", site) == ["5m"]
    assert directive("limit_conn", site) == ["pichat_per_client 7"]
    assert directive("client_header_timeout", site) == ["3s"]
    assert directive("alias", site) == ["/srv/pichat/static/"]


def test_a_tls_site_serves_the_given_certificate_and_redirects_plain_http():
    tls = Site(**{**PLAIN.__dict__, "certificate": (Path("/c/server.crt"), Path("/c/server.key"))})
    site = render_site(SHIPPED, tls)
    assert directive("listen", site) == ["127.0.0.1:9000 ssl"]
    assert directive("ssl_certificate", site) == ["/c/server.crt"]
    assert directive("ssl_certificate_key", site) == ["/c/server.key"]
    assert directive("error_page 497", site) == ["=308 https://$http_host$request_uri"]


def test_a_template_missing_a_directive_is_refused():
    with pytest.raises(TemplateError, match="client_max_body_size"):
        render_site(SHIPPED.replace("client_max_body_size", "# client_max_body_size"), PLAIN)


def test_nginx_accepts_the_rendered_plain_site(tmp_path):
    if not Path(NGINX).exists():
        require_service(f"nginx not installed ({NGINX}): apt-get install nginx")
    main = write_config(tmp_path, PLAIN)
    assert "daemon off;" in main.read_text()
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "e.log"),
                              "-c", str(main)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
