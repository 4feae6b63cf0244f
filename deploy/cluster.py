"""`deploy/cluster.sh start|stop|status`: nginx in front of N PiChat processes on this machine.

The settings come from the environment (deploy/cluster_settings.py). Migrations run once
before any process; the first process starts alone (it creates the demo or ADMIN_PASS
account), then the others, then nginx, each in its own session with a pid file. Pid
files, logs and nginx's files live in INSTANCE_DIR/run/. Only config.py of PiChat is
imported: the app runs in its own processes.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from config import BASE_DIR, ConfigError
from deploy import processes
from deploy.cluster_settings import Cluster, ClusterError, from_environment, run_folder
from deploy.nginx_site import Site, TemplateError, write_config

NGINX = "/usr/sbin/nginx"
NGINX_CONF_DIR = Path("/etc/nginx")  # Debian's: its mime.types names the static files' types
START_SECONDS = 60.0
PORTS_FREED_SECONDS = 5.0
USAGE = "uso: deploy/cluster.sh start|stop|status"
SETUP_LINK = re.compile(r"setup\?token=(\S+)")


def start(cluster: Cluster) -> None:
    """Migrate, start the processes and nginx; return once nginx answers /health."""
    run_dir = cluster.run_dir
    if any(managed.alive for managed in processes.recorded(run_dir)):
        raise ClusterError("el clúster ya está en marcha: deploy/cluster.sh status")
    for managed in processes.recorded(run_dir):
        managed.pid_file.unlink()
    if taken := [port for port in [cluster.port, *cluster.app_ports]
                 if not processes.bindable("127.0.0.1", port)]:
        raise ClusterError(f"puertos ya en uso: {', '.join(map(str, taken))} (cambie PORT)")
    run_dir.mkdir(parents=True, exist_ok=True)
    flask(cluster, "db", "upgrade")
    if cluster.local_ca:
        flask(cluster, "tls", "renew", TLS="auto")
    try:
        for ports in (cluster.app_ports[:1], cluster.app_ports[1:]):
            wait_for({f"http://127.0.0.1:{port}": start_app(cluster, port) for port in ports})
        wait_for({cluster.url: start_nginx(cluster)}, nginx_context())
    except BaseException:
        stop(run_dir)
        raise


def start_app(cluster: Cluster, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """One `python app.py` on 127.0.0.1:`port`; the process and its log."""
    command = [sys.executable, str(BASE_DIR / "app.py")]
    child = processes.spawn("app", port, command, cluster.run_dir, BASE_DIR,
                            {**cluster.app_env, "PORT": str(port)})
    return child, cluster.run_dir / f"app-{port}.log"


def flask(cluster: Cluster, *command: str, **env: str) -> None:
    """Run one `flask --app app` command with the processes' settings; ClusterError if it fails."""
    done = subprocess.run(  # noqa: S603  (our own interpreter, fixed arguments)
        [sys.executable, "-m", "flask", "--app", "app", *command], cwd=BASE_DIR,
        env={**cluster.app_env, **env}, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ClusterError(f"flask {' '.join(command)} falló: " + " | ".join(tail))


def start_nginx(cluster: Cluster) -> tuple[subprocess.Popen[bytes], Path]:
    """Write nginx's configuration from the template, check it and start nginx."""
    if not Path(NGINX).exists():
        raise ClusterError(f"falta nginx ({NGINX}): apt-get install nginx")
    site = Site(listen=f"{cluster.host}:{cluster.port}", upstreams=tuple(cluster.app_ports),
                static_dir=BASE_DIR / "static", max_body_mb=cluster.max_upload_mb + 1,
                per_client_connections=cluster.per_client_connections,
                header_timeout_seconds=cluster.header_timeout, certificate=cluster.certificate)
    run_dir = cluster.run_dir
    mime = NGINX_CONF_DIR / "mime.types"
    main = write_config(run_dir, site, mime if mime.exists() else None)
    command = [NGINX, "-p", str(run_dir), "-e", str(run_dir / "nginx-error.log"), "-c", str(main)]
    check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True,  # noqa: S603
                           timeout=30)
    if check.returncode != 0:
        raise ClusterError(f"nginx rechaza su configuración: {check.stderr.strip()}")
    child = processes.spawn("nginx", cluster.port, command, run_dir, run_dir, os.environ)
    return child, run_dir / "nginx-error.log"


def nginx_context() -> ssl.SSLContext:
    """For asking our own nginx on this machine whether it answers, whatever its certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def wait_for(children: Mapping[str, tuple[subprocess.Popen[bytes], Path]],
             context: ssl.SSLContext | None = None) -> None:
    """Wait until each URL answers /health; ClusterError naming the log of a process that
    ends, or does not answer within START_SECONDS."""
    deadline = time.monotonic() + START_SECONDS
    waiting = dict(children)
    while waiting:
        for url, (child, log) in list(waiting.items()):
            if processes.answers_health(url, context):
                del waiting[url]
            elif child.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"{url} no responde; véase {log}")
        time.sleep(processes.POLL_SECONDS)


def stop(run_dir: Path) -> list[int]:
    """Stop every recorded process, nginx first; the ports still listening after."""
    stopped = processes.recorded(run_dir)
    for managed in stopped:
        processes.stop(managed)
    # A process's last threads may still be closing its sockets when it shows as ended.
    deadline = time.monotonic() + PORTS_FREED_SECONDS
    while (left := [m.port for m in stopped if processes.listening("127.0.0.1", m.port)]) \
            and time.monotonic() < deadline:
        time.sleep(processes.POLL_SECONDS)
    return left


def status(run_dir: Path) -> list[str]:
    """One line per recorded process: name, pid, port, running or not."""
    return [f"{m.name:<6} pid {m.pid:<8} puerto {m.port:<6} "
            f"{'en marcha' if m.alive else 'detenido'}"
            for m in processes.recorded(run_dir)]


def setup_link(cluster: Cluster) -> str | None:
    """The first administrator's one-time link through nginx, if the first process printed one."""
    log = cluster.run_dir / f"app-{cluster.app_ports[0]}.log"
    found = SETUP_LINK.findall(log.read_text(errors="replace")) if log.exists() else []
    return f"{cluster.url}/setup?token={found[-1]}" if found else None


def main(argv: list[str]) -> int:
    """Run one command; a failure is one line on stderr."""
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]]()
    except (ClusterError, ConfigError, TemplateError) as exc:
        print(f"cluster.sh: {exc}", file=sys.stderr)
        return 1


def _start() -> int:
    cluster = from_environment()
    start(cluster)
    print(f"PiChat en {cluster.url}/ con {cluster.processes} procesos "
          f"(puertos {', '.join(map(str, cluster.app_ports))}); registros en {cluster.run_dir}")
    if link := setup_link(cluster):
        print(f"Aún no hay administrador. Ábralo una vez, antes de una hora: {link}")
    return 0


def _stop() -> int:
    if left := stop(run_folder()):
        print(f"cluster.sh: aún escucha algo en {', '.join(map(str, left))}", file=sys.stderr)
        return 1
    return 0


def _status() -> int:
    lines = status(run_folder())
    print("\n".join(lines) if lines else "el clúster no está en marcha")
    return 0 if lines and all(line.endswith("en marcha") for line in lines) else 3


COMMANDS = {"start": _start, "stop": _stop, "status": _status}

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
