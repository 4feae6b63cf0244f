"""The cluster's settings, from the environment as for one process (config.py reads them).

CLUSTER_PROCESSES (2), PORT (nginx; the processes take PORT+1…PORT+N on 127.0.0.1), HOST
(nginx's address), DATABASE_URL and REDIS_URL (both required: the processes share them),
TLS_CERT/TLS_KEY (nginx's), and every other setting, passed on to each process with
TLS=off and TRUSTED_PROXIES=1: nginx holds TLS and is the one proxy they trust.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config import (
    BASE_DIR,
    Config,
    ConfigError,
    env_existing_file,
    env_int,
    env_str,
    load_config,
)

# TLS_CERT/TLS_KEY are nginx's; an app process with TLS=off refuses to start with them.
NGINX_ONLY = ("TLS", "TLS_CERT", "TLS_KEY")


class ClusterError(RuntimeError):
    """The cluster cannot do what was asked; the message is the one line to print."""


@dataclass(frozen=True)
class Cluster:
    """One machine's cluster, as the environment describes it."""

    processes: int
    port: int
    host: str
    instance_dir: Path
    max_upload_mb: int
    per_client_connections: int
    header_timeout: float
    # No TLS_CERT: nginx serves the certificate of PiChat's own CA in INSTANCE_DIR/tls, made
    # by the first start in production (in development only when it is already there).
    local_ca: bool
    certificate: tuple[Path, Path] | None
    app_env: Mapping[str, str]

    @property
    def run_dir(self) -> Path:
        """Pid files, logs, nginx's configuration and temp folders."""
        return self.instance_dir / "run"

    @property
    def app_ports(self) -> list[int]:
        """The app processes' loopback ports."""
        return [self.port + n for n in range(1, self.processes + 1)]

    @property
    def url(self) -> str:
        """Where nginx answers on this machine."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"{'https' if self.certificate else 'http'}://{host}:{self.port}"


def run_folder() -> Path:
    """INSTANCE_DIR/run: all that `stop` and `status` need to find the processes."""
    return Path(env_str("INSTANCE_DIR", str(BASE_DIR / "instance"))).resolve() / "run"


def from_environment() -> Cluster:
    """Read and check the cluster's settings; ClusterError or ConfigError names what is wrong."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not env_str(name):
            raise ClusterError(f"falta {name}: los procesos del clúster comparten la base de "
                               "datos (PostgreSQL) y Redis; véase README, «Escalar»")
    count = env_int("CLUSTER_PROCESSES", 2, minimum=1, maximum=64)
    port = env_int("PORT", 8080, minimum=1, maximum=65535 - count)
    given = env_existing_file("TLS_CERT"), env_existing_file("TLS_KEY")
    if bool(given[0]) != bool(given[1]):
        raise ConfigError("TLS_CERT and TLS_KEY go together: set both or neither")
    app_env = {name: value for name, value in os.environ.items() if name not in NGINX_ONLY}
    app_env.update(TLS="off", TRUSTED_PROXIES="1", HOST="127.0.0.1")
    config = checked_config(app_env)
    folders = {name: str(Path(getattr(config, name)).resolve())
               for name in ("INSTANCE_DIR", "QUARANTINE_DIR", "LOG_DIR")}
    app_env.update(folders)
    tls_dir = Path(folders["INSTANCE_DIR"]) / "tls"
    local_ca = not given[0] and (
        (tls_dir / "ca.crt").exists() or env_str("PICHAT_ENV", "production") == "production")
    certificate = ((Path(given[0]), Path(given[1])) if given[0]
                   else (tls_dir / "server.crt", tls_dir / "server.key") if local_ca else None)
    return Cluster(count, port, env_str("HOST", "0.0.0.0"),  # noqa: S104  (the LAN's entry)
                   Path(folders["INSTANCE_DIR"]), config.MAX_UPLOAD_MB,
                   config.MAX_CONNECTIONS_PER_IP, config.HTTP_HEADER_TIMEOUT, local_ca,
                   certificate, app_env)


def checked_config(app_env: Mapping[str, str]) -> Config:
    """The settings every app process will read, checked now rather than in N logs."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(app_env)
    try:
        return load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
