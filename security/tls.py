"""How this installation serves HTTPS, from its settings: off, a certificate given, or a local CA.

With TLS=auto and no TLS_CERT, PiChat keeps its own certificate authority under
INSTANCE_DIR/tls and a server certificate for every name people may type.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from security.certificates import (
    CertificateError,
    CertNames,
    TlsFiles,
    ensure_certificates,
    lan_names,
    tls_files,
)
from security.lan import host_name, lan_addresses

log = logging.getLogger(__name__)
TLS_SUBDIR = "tls"
# A server left running for months still renews in time (certificates are renewed 30 days
# before they end) and picks up a new LAN address within half a day.
RENEW_CHECK_SECONDS = 12 * 3600


def tls_on(config: Mapping[str, Any]) -> bool:
    """Whether PiChat itself serves HTTPS."""
    return config["TLS"] == "auto"


def uses_local_ca(config: Mapping[str, Any]) -> bool:
    """Whether the certificate comes from PiChat's own CA (not from TLS_CERT)."""
    return tls_on(config) and not config["TLS_CERT"]


def tls_dir(config: Mapping[str, Any]) -> Path:
    """The folder of the local CA and its server certificate."""
    return Path(config["INSTANCE_DIR"]) / TLS_SUBDIR


def local_ca_path(config: Mapping[str, Any]) -> Path | None:
    """The local CA certificate staff install, when this installation has one."""
    path = tls_files(tls_dir(config)).ca_path
    return path if uses_local_ca(config) and path.exists() else None


def certificate_names(config: Mapping[str, Any]) -> CertNames:
    """This machine's names and LAN addresses, plus TLS_NAMES."""
    return lan_names(host_name(), lan_addresses(), config["TLS_NAMES"])


def prepare_certificates(config: Mapping[str, Any]) -> TlsFiles | None:
    """The files to serve HTTPS with (made or renewed as needed), or None with TLS off."""
    if not tls_on(config):
        return None
    if config["TLS_CERT"]:
        return TlsFiles(Path(config["TLS_CERT"]), Path(config["TLS_KEY"]), None, renewed=False)
    return ensure_certificates(tls_dir(config), certificate_names(config))


def renew_if_needed(context: ssl.SSLContext, config: Mapping[str, Any]) -> bool:
    """Renew the local CA's server certificate when due; new connections then get the new one."""
    try:
        files = ensure_certificates(tls_dir(config), certificate_names(config))
    except CertificateError:
        log.exception("The server certificate could not be renewed; the current one is kept")
        return False
    if files.renewed:
        context.load_cert_chain(files.cert_path, files.key_path)
        log.info("Server certificate renewed for %s", ", ".join(certificate_names(config).dns))
    return files.renewed


def keep_renewed(context: ssl.SSLContext, config: Mapping[str, Any],
                 sleep: Callable[[float], object]) -> None:
    """Check every RENEW_CHECK_SECONDS, forever (a background task of the server)."""
    while True:
        sleep(RENEW_CHECK_SECONDS)
        renew_if_needed(context, config)
