"""A server left running renews its certificate by itself: new connections get the new one."""

from __future__ import annotations

import socket
import ssl
import threading

from security.certificates import server_context
from security.tls import prepare_certificates, renew_if_needed


def serve_one_handshake(context: ssl.SSLContext) -> int:
    """A listener that completes one TLS handshake in a thread; returns its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass
        listener.close()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def handshake_ok(context: ssl.SSLContext, ca_path, name: str) -> bool:
    port = serve_one_handshake(context)
    client = ssl.create_default_context(cafile=str(ca_path))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                client.wrap_socket(raw, server_hostname=name):
            return True
    except ssl.SSLCertVerificationError:
        return False


def test_a_new_name_is_served_without_a_restart(tmp_path):
    config = {"TLS": "auto", "TLS_CERT": None, "INSTANCE_DIR": str(tmp_path),
              "TLS_NAMES": ["pichat.lan"]}
    files = prepare_certificates(config)
    context = server_context(files)
    assert not renew_if_needed(context, config)  # nothing changed: nothing renewed
    assert not handshake_ok(context, files.ca_path, "chat.oficina.lan")
    config["TLS_NAMES"] = ["pichat.lan", "chat.oficina.lan"]
    assert renew_if_needed(context, config)
    assert handshake_ok(context, files.ca_path, "chat.oficina.lan")
