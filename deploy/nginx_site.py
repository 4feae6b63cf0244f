"""deploy/nginx.conf as the template of a running cluster's nginx: one file ships and runs.

The shipped file is a complete site for a system nginx. `render_site` rewrites its
directives for one cluster (upstream ports, listen address, certificate, body size, limits,
static folder); every directive it sets must be in the template exactly as often as
expected, so an edit of nginx.conf that would leave the cluster half-configured fails
loudly instead. `main_config` is the rest an unprivileged nginx needs: pid, logs and temp
folders under the cluster's run folder, in the foreground.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
# The template's redirect-only server on port 80: a cluster listens on one port, PORT.
_REDIRECT_SERVER = re.compile(r"^server \{\n    listen 80;\n.*?^\}\n\n", re.M | re.S)
_UPSTREAM_SERVERS = re.compile(r"^(    server 127\.0\.0\.1:\d+;\n)+", re.M)
_TLS_ONLY = ("ssl_certificate", "ssl_certificate_key", "error_page 497")
# Everything behind the proxy is PiChat's: its own access lines say which process answered.
LOG_FORMAT = ('\'$remote_addr [$time_local] "$request" $status $body_bytes_sent '
              '$request_time upstream=$upstream_addr\'')


class TemplateError(RuntimeError):
    """deploy/nginx.conf no longer has a directive the cluster sets."""


@dataclass(frozen=True)
class Site:
    """What one cluster's nginx serves: where it listens and what it passes to."""

    listen: str  # address:port
    upstreams: tuple[int, ...]  # loopback ports of the app processes
    static_dir: Path
    max_body_mb: int
    per_client_connections: int
    header_timeout_seconds: float
    certificate: tuple[Path, Path] | None = None  # (cert, key); None: plain HTTP
    redirect_listen: str | None = None  # keep the template's http -> https server here


def render_site(template: str, site: Site) -> str:
    """The template with this site's values in place of the shipped ones."""
    text = _replace(_UPSTREAM_SERVERS, template, "".join(
        f"    server 127.0.0.1:{port};\n" for port in site.upstreams), "upstream servers")
    if site.redirect_listen is None:
        text = _replace(_REDIRECT_SERVER, text, "", "port-80 redirect server")
    else:
        text = _directive(text, "listen", site.redirect_listen, old="80")
    text = _directive(text, "client_max_body_size", f"{site.max_body_mb}m")
    text = _directive(text, "limit_conn", f"pichat_per_client {site.per_client_connections}")
    text = _directive(text, "client_header_timeout", f"{site.header_timeout_seconds:g}s")
    text = _directive(text, "alias", f"{site.static_dir}/")
    if site.certificate is None:
        text = _directive(text, "listen", site.listen, old="443 ssl")
        for name in _TLS_ONLY:
            text = _directive(text, name, None)
        return text
    cert, key = site.certificate
    text = _directive(text, "listen", f"{site.listen} ssl", old="443 ssl")
    text = _directive(text, "ssl_certificate", str(cert))
    return _directive(text, "ssl_certificate_key", str(key))


def _directive(text: str, name: str, value: str | None, old: str | None = None) -> str:
    """Set the one `name` directive (whose value is `old`, when given) or drop it (None),
    with the comment lines just above it."""
    current = re.escape(old) if old is not None else r"[^;\n]*"
    pattern = re.compile(
        rf"^(?P<notes>(?: *#[^\n]*\n)*)(?P<indent> *){re.escape(name)}\s+{current};[^\n]*\n",
        re.M)
    setting = rf"\g<notes>\g<indent>{name} {value};\n"
    return _replace(pattern, text, "" if value is None else setting, name)


def _replace(pattern: re.Pattern[str], text: str, replacement: str, what: str) -> str:
    new, count = pattern.subn(lambda m: m.expand(replacement), text)
    if count != 1:
        raise TemplateError(f"{TEMPLATE} must have one {what}, found {count}")
    return new


def write_config(run_dir: Path, site: Site, mime_types: Path | None = None) -> Path:
    """Write the site and the main file into `run_dir` (and nginx's temp folder); the main
    file's path, for `nginx -c`."""
    (run_dir / "nginx-temp").mkdir(parents=True, exist_ok=True)
    site_path = run_dir / "pichat-site.conf"
    site_path.write_text(render_site(TEMPLATE.read_text(), site))
    main = run_dir / "nginx.conf"
    main.write_text(main_config(run_dir, site_path, mime_types))
    return main


def main_config(run_dir: Path, site_path: Path, mime_types: Path | None) -> str:
    """nginx's main file: in the foreground, pid, logs and temp folders under `run_dir`.

    Started as root, nginx would run its workers as nobody, who cannot read the run folder:
    they run as the account that started it instead.
    """
    user = getpass.getuser() if os.geteuid() == 0 else None
    temp = run_dir / "nginx-temp"
    lines = [
        "daemon off;",
        *([f"user {user};"] if user else []),
        "worker_processes auto;",
        "worker_rlimit_nofile 16384;",
        f"pid {run_dir / 'nginx.pid'};",
        f"error_log {run_dir / 'nginx-error.log'} warn;",
        "events { worker_connections 8192; }",
        "http {",
        *([f"    include {mime_types};"] if mime_types else []),
        "    default_type application/octet-stream;",
        "    server_tokens off;",
        f"    log_format pichat {LOG_FORMAT};",
        f"    access_log {run_dir / 'nginx-access.log'} pichat;",
        *(f"    {kind}_temp_path {temp / kind};"
          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        f"    include {site_path};",
        "}",
    ]
    return "\n".join(lines) + "\n"
