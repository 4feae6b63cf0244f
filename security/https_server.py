"""One port for HTTPS and plain HTTP: TLS clients are served, plain requests get a 308 to https://.

Each accepted connection is sorted in its own green thread (never in the accept loop) by
peeking at its first byte, so a client that connects and says nothing delays nobody else.
In both modes every request line and header block must arrive within the header timeout,
and one client address holds at most `max_per_address` connections.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager, closing, suppress
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from security.connection_limit import (
    PerAddressLimit,
    header_deadline_handler,
    header_deadline_protocol,
    per_address_protocol,
    per_address_server,
)

Deadline = Callable[[float, type[BaseException]], AbstractContextManager[Any]]

TLS_RECORD_HANDSHAKE = b"\x16"  # a TLS client's first record is a handshake (ClientHello)
# A plain request head is read into memory only to build the redirect; past 8 KiB it is refused,
# so a client cannot make the server buffer an endless header block.
MAX_HEAD_BYTES = 8192
# eventlet keeps a 16 KiB write buffer per socket for its whole life, idle chat sockets included;
# below 4 KiB small responses start waiting on Nagle's algorithm.
SMALL_WRITE_BUFFER = 4096
# Only a plain host name, IPv4 address or bracketed IPv6 address with an optional port goes into
# Location: anything else (spaces, slashes, CR/LF, "@") could inject headers or change the target.
HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
# Request target: visible ASCII only, so neither CR/LF nor spaces can reach the Location header.
REQUEST_LINE = re.compile(r"[A-Z]{1,20} ([!-~]+) HTTP/[0-9]\.[0-9]")
HTTPS_ENVIRON = {"wsgi.url_scheme": "https", "HTTPS": "on"}  # what servers set for TLS
LISTEN_BACKLOG = 1024
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def serve(
    app: Flask,
    host: str,
    port: int,
    *,
    async_mode: str,
    ssl_context: ssl.SSLContext | None,
    header_timeout: float,
    max_connections: int,
    max_per_address: int | None,
    **kwargs: Any,
) -> None:
    """Serve `app` and its Socket.IO on host:port forever; HTTPS when given a context.

    `max_per_address` None applies no per-address cap: behind a reverse proxy every
    connection comes from the proxy, which limits per client itself.
    """
    kwargs.setdefault("log_output", app.debug)
    if ssl_context is not None:
        require_green_context(ssl_context, async_mode)
    limit = PerAddressLimit(max_per_address) if max_per_address is not None else None
    if async_mode == "eventlet":
        serve_eventlet(app, host, port, ssl_context, header_timeout, max_connections, limit,
                       **kwargs)
    elif async_mode == "gevent":
        serve_gevent(app, host, port, ssl_context, header_timeout, max_connections, limit,
                     **kwargs)
    else:
        raise ValueError(f"unsupported async mode: {async_mode}")


def require_green_context(context: ssl.SSLContext, async_mode: str) -> None:
    """Refuse a context made before monkey-patching: its handshakes would block every client."""
    if async_mode == "eventlet":
        from eventlet.green.ssl import GreenSSLContext as green_context
    else:
        from gevent.ssl import SSLContext as green_context
    if not isinstance(context, green_context):
        raise TypeError(f"the SSLContext must be created after {async_mode} monkey-patched ssl")


def serve_eventlet(
    app: Flask, host: str, port: int, context: ssl.SSLContext | None, timeout: float,
    max_connections: int, limit: PerAddressLimit | None, **kwargs: Any,
) -> None:
    """eventlet.wsgi.server, as Flask-SocketIO runs it, with the sorting done by its protocol."""
    import eventlet.wsgi

    protocol = header_deadline_protocol(kwargs.pop("protocol", None) or small_buffer_protocol(),
                                        timeout)
    if context is not None:
        protocol = tls_or_redirect_protocol(protocol, context, timeout)
        kwargs["environ"] = {**(kwargs.get("environ") or {}), **HTTPS_ENVIRON}
    if limit is not None:
        protocol = per_address_protocol(protocol, limit)
    listener = nodelay_listener(host, port)
    # eventlet's own debug mode writes tracebacks into 500 responses: only with DEBUG.
    kwargs.setdefault("debug", app.debug)
    eventlet.wsgi.server(listener, app, max_size=max_connections, protocol=protocol, **kwargs)


def serve_gevent(
    app: Flask, host: str, port: int, context: ssl.SSLContext | None, timeout: float,
    max_connections: int, limit: PerAddressLimit | None, **kwargs: Any,
) -> None:
    """gevent's WSGIServer with gevent-websocket's handler (engine.io then reads each frame in
    the handler's greenlet), sorting connections in `handle`."""
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    kwargs["handler_class"] = header_deadline_handler(
        kwargs.get("handler_class", WebSocketHandler), timeout)
    kwargs["log"] = "default" if kwargs.pop("log_output") else None
    server_class = pywsgi.WSGIServer
    if context is not None:
        server_class = tls_or_redirect_server(context, timeout)
        kwargs["environ"] = {**(kwargs.get("environ") or {}), **HTTPS_ENVIRON}
    if limit is not None:
        server_class = per_address_server(server_class, limit)
    server_class(nodelay_listener(host, port), app, spawn=max_connections,
                 **kwargs).serve_forever()


def nodelay_listener(host: str, port: int) -> socket.socket:
    """The listening socket (green: made after monkey-patching), its connections unbuffered.

    Without TCP_NODELAY, Nagle's algorithm held each ack back behind the broadcast its sender
    also receives until the client's delayed ACK came, ~40 ms on every send; accepted sockets
    inherit the option. The backlog takes a connect storm after a restart.
    """
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(address)
    sock.listen(LISTEN_BACKLOG)
    return sock


def small_buffer_protocol() -> type:
    """eventlet's HTTP protocol with a 4 KiB write buffer instead of 16 KiB per socket."""
    from eventlet import wsgi

    return type("SmallBufferProtocol", (wsgi.HttpProtocol,), {"wbufsize": SMALL_WRITE_BUFFER})


def tls_or_redirect_protocol(base: type, context: ssl.SSLContext, timeout: float) -> type:
    """`base` (an eventlet HttpProtocol) that first sorts its connection: TLS or redirect."""
    from eventlet import Timeout

    class TlsOrRedirectProtocol(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            tls = accept_tls(self.request, context, timeout, Timeout)
            self.serving = tls is not None
            if tls is not None:
                # The server closes conn_state[1] when the green thread ends.
                self.request = self.conn_state[1] = tls
                super().setup()

        def handle(self) -> None:
            if self.serving:
                super().handle()

        def finish(self) -> None:
            if self.serving:
                super().finish()

    return TlsOrRedirectProtocol


def tls_or_redirect_server(context: ssl.SSLContext, timeout: float) -> type:
    """gevent's WSGIServer whose per-connection `handle` sorts the connection first."""
    from gevent import Timeout
    from gevent.pywsgi import WSGIServer

    class TlsOrRedirectServer(WSGIServer):
        def handle(self, sock: socket.socket, address: tuple) -> None:
            tls = accept_tls(sock, context, timeout, Timeout)
            if tls is not None:
                # A TLS peer leaving mid-response raises SSL errors, not the EPIPE pywsgi expects.
                with closing(tls), suppress(ssl.SSLEOFError, ssl.SSLZeroReturnError):
                    super().handle(tls, address)

    return TlsOrRedirectServer


def accept_tls(
    sock: socket.socket, context: ssl.SSLContext, timeout: float, deadline: Deadline
) -> ssl.SSLSocket | None:
    """The handshaken TLS socket for a TLS client; None once a plain client is answered or gone."""
    try:
        with deadline(timeout, TimeoutError):
            if sock.recv(1, socket.MSG_PEEK) != TLS_RECORD_HANDSHAKE:
                answer_plain(sock)
                return None
            tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            try:
                tls.do_handshake()
            except BaseException:
                tls.close()
                raise
            return tls
    except OSError:  # silent or slow past the deadline, reset, or a failed handshake
        return None


def answer_plain(sock: socket.socket) -> None:
    """Read a plain request head (bounded) and answer it with the redirect to https://."""
    head = read_head(sock)
    if head:
        sock.sendall(redirect_response(head, local_host(sock)))


def read_head(sock: socket.socket) -> bytes:
    """The bytes up to the end of the request head, or what came before EOF or the size limit."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < MAX_HEAD_BYTES:
        chunk = sock.recv(MAX_HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head


def local_host(sock: socket.socket) -> str:
    """The address and port this connection reached, as a URL authority."""
    address, port = sock.getsockname()[:2]
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def redirect_response(head: bytes, fallback_host: str) -> bytes:
    """A 308 to the same host and target over https, or 400 for what is not an HTTP request head."""
    if b"\r\n\r\n" not in head:
        return BAD_REQUEST
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    request = REQUEST_LINE.fullmatch(lines[0])
    if request is None:
        return BAD_REQUEST
    hosts = [value.strip(" \t") for name, _, value in (line.partition(":") for line in lines[1:])
             if name.lower() == "host"]
    host = hosts[0] if len(hosts) == 1 and HOST_HEADER.fullmatch(hosts[0]) else fallback_host
    location = f"https://{host}{origin_form(request.group(1))}"
    return (
        "HTTP/1.1 308 Permanent Redirect\r\n"
        f"Location: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


def origin_form(target: str) -> str:
    """The path and query of a request target; "/" for the forms that have none."""
    if target.startswith("/"):
        return target
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https"):
        return "/"
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
