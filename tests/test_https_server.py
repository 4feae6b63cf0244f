"""HTTPS and plain HTTP on one port: security/https_server.py on a real server per async mode."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import requests
import socketio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from security.https_server import redirect_response, require_green_context
from tests.live_server import ROOT, connect_from, free_port

MODES = ["eventlet", "gevent"]
START_SECONDS = 20.0  # a server that has not bound its port by then has failed
SHORT_TIMEOUT = 1.0  # header_timeout of the server that checks give-ups
PER_ADDRESS = 5  # connections one address may hold on that server
FALLBACK = "192.0.2.7:8443"


def make_certificates(folder: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost; returns the CA path."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1()
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PiChat test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.crt").write_bytes(ca.public_bytes(pem))
    (folder / "server.crt").write_bytes(server.public_bytes(pem))
    (folder / "server.key").write_bytes(server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder / "ca.crt"


class DemoServer:
    """tests/https_demo_app.py in a subprocess on a free loopback port."""

    def __init__(self, mode: str, certdir: Path | None, log: Path, header_timeout: float,
                 max_per_address: int | None = None) -> None:
        self.port = free_port()
        args = [sys.executable, str(ROOT / "tests" / "https_demo_app.py"), mode, str(self.port),
                str(certdir) if certdir else "-", str(header_timeout)]
        args += [str(max_per_address)] if max_per_address else []
        with open(log, "wb") as output:
            self.process = subprocess.Popen(args, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        self.log = log
        self.wait_until_listening()

    def wait_until_listening(self) -> None:
        """Return once the port accepts connections; fail with the server's output otherwise."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"demo server did not start:\n{self.log.read_text()}")

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Terminate the process, then kill it if it lingers."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test CA's certificate, next to server.crt and server.key."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


def run_server(tmp_path_factory, mode, certdir, header_timeout=10.0,
               max_per_address=None) -> Iterator[DemoServer]:
    """A demo server for the fixture's lifetime, always stopped afterwards."""
    server = DemoServer(mode, certdir, tmp_path_factory.mktemp("log") / "server.log",
                        header_timeout, max_per_address)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=MODES)
def https_server(request, tmp_path_factory, ca_file) -> Iterator[DemoServer]:
    yield from run_server(tmp_path_factory, request.param, ca_file.parent)


@pytest.fixture(scope="module", params=MODES)
def impatient_server(request, tmp_path_factory, ca_file) -> Iterator[DemoServer]:
    yield from run_server(tmp_path_factory, request.param, ca_file.parent, SHORT_TIMEOUT,
                          PER_ADDRESS)


@pytest.fixture(scope="module", params=MODES)
def plain_server(request, tmp_path_factory) -> Iterator[DemoServer]:
    yield from run_server(tmp_path_factory, request.param, None)


def health(server: DemoServer, ca_file: Path, timeout: float = 5) -> requests.Response:
    """GET /health over HTTPS, verifying the certificate against the test CA."""
    return requests.get(f"https://127.0.0.1:{server.port}/health", verify=str(ca_file),
                        timeout=timeout)


def echo(url: str, verify: Path | bool) -> object:
    """Connect over the websocket transport only, send 'echo' and return its ack."""
    session = requests.Session()
    session.verify = str(verify) if isinstance(verify, Path) else verify
    client = socketio.Client(http_session=session, request_timeout=5)
    try:
        client.connect(url, transports=["websocket"], wait_timeout=5)
        assert client.transport() == "websocket"
        return client.call("echo", {"text": "hola"}, timeout=5)
    finally:
        client.disconnect()


def read_until_closed(sock: socket.socket) -> bytes:
    """What the server sent before it closed (a reset counts as closed); fails on a timeout."""
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_https_health_answers_with_a_certificate_the_ca_verifies(https_server, ca_file):
    response = health(https_server, ca_file)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_plain_http_is_redirected_to_the_same_url_over_https(https_server):
    url = f"http://127.0.0.1:{https_server.port}/some/path?x=1"
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 308
    assert response.headers["Location"] == f"https://127.0.0.1:{https_server.port}/some/path?x=1"
    assert response.headers["Content-Length"] == "0"
    assert response.headers["Connection"] == "close"


def test_a_request_without_host_is_redirected_to_the_address_it_reached(https_server):
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.0\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 308 ")
    assert f"Location: https://127.0.0.1:{https_server.port}/x\r\n".encode() in answer


def test_socketio_websocket_over_https_gets_its_echo_ack(https_server, ca_file):
    url = f"https://127.0.0.1:{https_server.port}"
    assert echo(url, ca_file) == {"echo": {"text": "hola"}}


def test_idle_connections_do_not_delay_https_requests(https_server, ca_file):
    idle = [socket.create_connection(("127.0.0.1", https_server.port), timeout=5)
            for _ in range(20)]
    try:
        started = time.monotonic()
        assert health(https_server, ca_file, timeout=2).status_code == 200
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("garbage", [
    b"\x00\xff\x13\x37 not http at all\r\n\r\n",
    b"\x16\x03\x01\x00\x05hello, not a ClientHello",
    b"SSH-2.0-OpenSSH_9.6\r\n",
])
def test_garbage_is_closed_and_the_server_keeps_serving(https_server, ca_file, garbage):
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=5) as sock:
        sock.sendall(garbage)
        with suppress(OSError):  # the server may have reset the connection already
            sock.shutdown(socket.SHUT_WR)
        answer = read_until_closed(sock)
    assert b"200" not in answer
    assert health(https_server, ca_file).status_code == 200
    assert https_server.alive()


@pytest.mark.parametrize("opening", [b"", b"\x16\x03\x01", b"GET / HTTP/1.1\r\nHost: x"])
def test_a_stalled_connection_is_closed_after_the_header_timeout(impatient_server, opening):
    with socket.create_connection(("127.0.0.1", impatient_server.port), timeout=5) as sock:
        sock.sendall(opening)
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert SHORT_TIMEOUT / 2 < time.monotonic() - started < SHORT_TIMEOUT + 3
    assert impatient_server.alive()


def test_headers_trickled_over_tls_are_cut_off_after_the_header_timeout(impatient_server,
                                                                        ca_file):
    context = ssl.create_default_context(cafile=str(ca_file))
    raw = socket.create_connection(("127.0.0.1", impatient_server.port), timeout=5)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        started = time.monotonic()
        with suppress(OSError):  # the server may close while a byte is on its way
            for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow":
                tls.sendall(bytes([byte]))
                time.sleep(0.1)
                if time.monotonic() - started > SHORT_TIMEOUT + 2:
                    break
        assert read_until_closed(tls) == b""
        assert SHORT_TIMEOUT / 2 < time.monotonic() - started < SHORT_TIMEOUT + 2


def test_past_its_cap_an_address_is_closed_at_once_while_another_is_served(impatient_server,
                                                                          ca_file):
    held = []
    try:
        for _ in range(PER_ADDRESS):
            held.append(connect_from("127.0.0.2", impatient_server.port))
        with connect_from("127.0.0.2", impatient_server.port) as extra:
            extra.settimeout(SHORT_TIMEOUT / 2)  # refused before the header timeout could act
            assert read_until_closed(extra) == b""
        context = ssl.create_default_context(cafile=str(ca_file))
        with context.wrap_socket(connect_from("127.0.0.3", impatient_server.port),
                                 server_hostname="127.0.0.1") as other:
            other.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert read_until_closed(other).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()


def test_without_a_tls_context_it_serves_plain_http_and_websockets(plain_server):
    url = f"http://127.0.0.1:{plain_server.port}"
    assert requests.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
    assert echo(url, False) == {"echo": {"text": "hola"}}


@pytest.mark.filterwarnings("ignore:(?s).*Eventlet is deprecated")
@pytest.mark.parametrize("mode", MODES)
def test_a_context_made_before_monkey_patching_is_refused(mode):
    with pytest.raises(TypeError):
        require_green_context(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), mode)


@pytest.mark.parametrize(("head", "location"), [
    (b"GET /a?b=1 HTTP/1.1\r\nHost: pichat.local:8443\r\n\r\n", "https://pichat.local:8443/a?b=1"),
    (b"GET /a HTTP/1.1\r\nhost:  [fe80::1]:8443 \r\n\r\n", "https://[fe80::1]:8443/a"),
    (b"GET http://other/p?q HTTP/1.1\r\nHost: h\r\n\r\n", "https://h/p?q"),
    (b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "https://h/"),
    (b"GET / HTTP/1.0\r\n\r\n", f"https://{FALLBACK}/"),
    (b"GET / HTTP/1.1\r\nHost: evil\nSet-Cookie: a=b\r\n\r\n", f"https://{FALLBACK}/"),
    (b"GET / HTTP/1.1\r\nHost: evil.example/phish\r\n\r\n", f"https://{FALLBACK}/"),
    (b"GET / HTTP/1.1\r\nHost: user@evil.example\r\n\r\n", f"https://{FALLBACK}/"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", f"https://{FALLBACK}/"),
])
def test_the_redirect_keeps_host_and_target_but_never_a_forged_header(head, location):
    answer = redirect_response(head, FALLBACK).decode("latin-1")
    assert answer.startswith("HTTP/1.1 308 Permanent Redirect\r\n")
    assert f"\r\nLocation: {location}\r\n" in answer
    assert answer.count("\r\n") == 5  # status line, three headers, blank line: nothing injected


@pytest.mark.parametrize("head", [
    b"\x00\xff garbage\r\n\r\n",
    b"GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /a\nSet-Cookie: x HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: " + b"a" * 9000,
])
def test_what_is_not_a_request_head_gets_a_400(head):
    assert redirect_response(head, FALLBACK).startswith(b"HTTP/1.1 400 Bad Request\r\n")
