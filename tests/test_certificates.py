"""The local CA and server certificate: made once, reused, renewed, trusted by real TLS clients."""

from __future__ import annotations

import hashlib
import ipaddress
import multiprocessing
import re
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from security import certificates
from security.certificates import CertificateError, CertNames, ensure_certificates, lan_names

NAMES = lan_names("pichat", ["192.168.1.20"], ["pichat.lan", "10.0.0.5"])


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def verify(files: certificates.TlsFiles, name: x509.GeneralName, when: datetime | None = None):
    """Path-validate the server certificate for name with only the local CA trusted."""
    builder = PolicyBuilder().store(Store([load(files.ca_path)]))
    builder = builder.time(when or datetime.now(UTC))
    return builder.build_server_verifier(name).verify(load(files.cert_path), [])


def handshake(context: ssl.SSLContext, client: ssl.SSLContext, server_hostname: str) -> bytes:
    """Serve one TLS connection on 127.0.0.1 with context; return what the client read."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hola")
        except (ssl.SSLError, OSError):
            pass  # the client refused the certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with (
            socket.create_connection(listener.getsockname(), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname=server_hostname) as tls,
        ):
            return tls.recv(4)
    finally:
        thread.join(timeout=5)
        listener.close()


def ensure_at_once(barrier: Any, tls_dir: Path, results: Any) -> None:
    """A process that starts PiChat's certificate step at the same moment as another one."""
    barrier.wait()
    files = ensure_certificates(tls_dir, NAMES)
    results.put((files.renewed, certificates.fingerprint(files.ca_path)))


def test_first_start_creates_private_ca_and_server_certificate(tmp_path: Path) -> None:
    tls_dir = tmp_path / "instance" / "tls"
    files = ensure_certificates(tls_dir, NAMES)
    assert files.renewed
    assert (files.cert_path, files.key_path, files.ca_path) == (
        tls_dir / "server.crt",
        tls_dir / "server.key",
        tls_dir / "ca.crt",
    )
    assert tls_dir.stat().st_mode & 0o777 == 0o700
    for key in ("ca.key", "server.key"):
        assert (tls_dir / key).stat().st_mode & 0o777 == 0o600
    assert not list(tls_dir.glob("*.tmp")) and not list(tls_dir.glob(".*.tmp"))


def test_existing_tls_dir_open_to_others_is_closed(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    ensure_certificates(tmp_path, NAMES)
    assert tmp_path.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "name",
    [
        x509.DNSName("pichat.lan"),
        x509.DNSName("localhost"),
        x509.DNSName("pichat"),
        x509.DNSName("pichat.local"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("192.168.1.20")),
        x509.IPAddress(ipaddress.ip_address("10.0.0.5")),
    ],
)
def test_server_certificate_verifies_against_the_ca_for_every_name(
    tmp_path: Path, name: x509.GeneralName
) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    chain = verify(files, name)
    assert chain[-1] == load(files.ca_path)


def test_a_name_outside_the_certificate_does_not_verify(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    with pytest.raises(VerificationError):
        verify(files, x509.DNSName("otro.lan"))


def test_certificate_names_live_in_the_san_exactly(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    san = load(files.cert_path).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert sorted(san.value.get_values_for_type(x509.DNSName)) == list(NAMES.dns)
    assert sorted(str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)) == list(
        NAMES.ips
    )


def test_ca_lasts_ten_years_and_can_only_sign_end_certificates(tmp_path: Path) -> None:
    ca = load(ensure_certificates(tmp_path, NAMES).ca_path)
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(days=3650)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "PiChat"
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value.startswith("PiChat CA ")


def test_server_certificate_lasts_at_most_825_days_and_tolerates_clock_skew(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    cert = load(ensure_certificates(tmp_path, NAMES, now=now).cert_path)
    # notAfter is inclusive, so the last valid second ends exactly 825 days after notBefore.
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=825, seconds=-1)
    assert timedelta(minutes=1) < now - cert.not_valid_before_utc < timedelta(hours=1)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1", "pichat.lan"])
def test_tls_client_trusting_only_the_ca_connects(tmp_path: Path, server_hostname: str) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    client = ssl.create_default_context(cafile=files.ca_path)
    assert client.check_hostname
    assert handshake(certificates.server_context(files), client, server_hostname) == b"hola"


def test_tls_client_with_only_the_system_trust_store_refuses(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(certificates.server_context(files), ssl.create_default_context(), "localhost")


def test_tls_client_asking_for_another_name_refuses(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    client = ssl.create_default_context(cafile=files.ca_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(certificates.server_context(files), client, "otro.lan")


def test_server_context_requires_tls_1_2_or_later(tmp_path: Path) -> None:
    context = certificates.server_context(ensure_certificates(tmp_path, NAMES))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_second_start_reuses_ca_and_server_certificate(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path, NAMES)
    prints = certificates.fingerprint(first.ca_path), certificates.fingerprint(first.cert_path)
    second = ensure_certificates(
        tmp_path, lan_names("PICHAT", ["192.168.1.20"], ["PiChat.LAN", "10.0.0.5"])
    )
    assert not second.renewed
    assert (
        certificates.fingerprint(second.ca_path),
        certificates.fingerprint(second.cert_path),
    ) == prints


def test_changed_address_gets_a_new_server_certificate_from_the_same_ca(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path, NAMES)
    ca_print, server_print = (certificates.fingerprint(p) for p in (first.ca_path, first.cert_path))
    moved = lan_names("pichat", ["192.168.1.77"], ["pichat.lan", "10.0.0.5"])
    second = ensure_certificates(tmp_path, moved)
    assert second.renewed
    assert certificates.fingerprint(second.ca_path) == ca_print
    assert certificates.fingerprint(second.cert_path) != server_print
    verify(second, x509.IPAddress(ipaddress.ip_address("192.168.1.77")))
    with pytest.raises(VerificationError):
        verify(second, x509.IPAddress(ipaddress.ip_address("192.168.1.20")))


@pytest.mark.parametrize(("days_later", "renewed"), [(794, False), (796, True), (800, True)])
def test_server_certificate_is_renewed_with_under_30_days_left(
    tmp_path: Path, days_later: int, renewed: bool
) -> None:
    now = datetime.now(UTC)
    first = ensure_certificates(tmp_path, NAMES, now=now)
    ca_print = certificates.fingerprint(first.ca_path)
    later = now + timedelta(days=days_later)
    second = ensure_certificates(tmp_path, NAMES, now=later)
    assert second.renewed is renewed
    assert certificates.fingerprint(second.ca_path) == ca_print
    verify(second, x509.DNSName("pichat.lan"), when=later)


def test_server_certificate_never_outlives_the_ca(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    ca = load(ensure_certificates(tmp_path, NAMES, now=now).ca_path)
    late = ensure_certificates(tmp_path, NAMES, now=now + timedelta(days=3400))
    assert late.renewed
    assert load(late.cert_path).not_valid_after_utc == ca.not_valid_after_utc
    assert load(late.ca_path) == ca


@pytest.mark.parametrize("garbage", [b"", b"-----BEGIN CERTIFICATE-----\nroto\n", b"\x00" * 300])
def test_corrupt_server_certificate_is_replaced(tmp_path: Path, garbage: bytes) -> None:
    first = ensure_certificates(tmp_path, NAMES)
    ca_print = certificates.fingerprint(first.ca_path)
    first.cert_path.write_bytes(garbage)
    second = ensure_certificates(tmp_path, NAMES)
    assert second.renewed
    assert certificates.fingerprint(second.ca_path) == ca_print
    verify(second, x509.DNSName("localhost"))


def test_server_key_that_does_not_match_is_replaced(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path, NAMES)
    first.key_path.write_bytes((tmp_path / "ca.key").read_bytes())
    assert ensure_certificates(tmp_path, NAMES).renewed
    certificates.server_context(first)


def test_server_certificate_from_another_ca_is_replaced(tmp_path: Path) -> None:
    ours = ensure_certificates(tmp_path / "ours", NAMES)
    theirs = ensure_certificates(tmp_path / "theirs", NAMES)
    ours.cert_path.write_bytes(theirs.cert_path.read_bytes())
    ours.key_path.write_bytes(theirs.key_path.read_bytes())
    again = ensure_certificates(tmp_path / "ours", NAMES)
    assert again.renewed
    verify(again, x509.DNSName("localhost"))


@pytest.mark.parametrize("damage", ["corrupt_crt", "missing_key", "expired"])
def test_unusable_ca_is_replaced_together_with_the_server_certificate(
    tmp_path: Path, damage: str
) -> None:
    now = datetime.now(UTC)
    first = ensure_certificates(tmp_path, NAMES, now=now)
    ca_print = certificates.fingerprint(first.ca_path)
    if damage == "corrupt_crt":
        first.ca_path.write_bytes(b"not a certificate")
    elif damage == "missing_key":
        (tmp_path / "ca.key").unlink()
    else:
        now += timedelta(days=3660)
    second = ensure_certificates(tmp_path, NAMES, now=now)
    assert second.renewed
    assert certificates.fingerprint(second.ca_path) != ca_print
    verify(second, x509.DNSName("localhost"), when=now)


def test_renew_issues_a_new_server_certificate_from_the_same_ca(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path, NAMES)
    ca_print, server_print = (certificates.fingerprint(p) for p in (first.ca_path, first.cert_path))
    renewed = certificates.renew(tmp_path, NAMES)
    assert renewed.renewed
    assert certificates.fingerprint(renewed.ca_path) == ca_print
    assert certificates.fingerprint(renewed.cert_path) != server_print


def test_fingerprint_is_sha256_of_the_der_as_browsers_show_it(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    shown = certificates.fingerprint(files.ca_path)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", shown)
    der = load(files.ca_path).public_bytes(Encoding.DER)
    assert shown.replace(":", "") == hashlib.sha256(der).hexdigest().upper()


def test_describe_reports_names_expiry_and_fingerprints(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    files = ensure_certificates(tmp_path, NAMES, now=now)
    info = certificates.describe(tmp_path, now=now)
    assert info.names == NAMES.dns + NAMES.ips
    assert info.not_after == load(files.cert_path).not_valid_after_utc
    assert info.not_after.tzinfo is not None
    assert info.days_left == 824
    assert info.ca_fingerprint == certificates.fingerprint(files.ca_path)
    assert info.server_fingerprint == certificates.fingerprint(files.cert_path)


def test_describe_without_certificates_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="flask tls renew"):
        certificates.describe(tmp_path)


def test_lan_names_builds_the_contract_set() -> None:
    names = lan_names(
        "PiChat-Oficina", ["192.168.1.20", "10.0.0.5"], ["Chat.Oficina.LAN", "172.16.0.9"]
    )
    assert names == CertNames(
        dns=("chat.oficina.lan", "localhost", "pichat-oficina", "pichat-oficina.local"),
        ips=("10.0.0.5", "127.0.0.1", "172.16.0.9", "192.168.1.20"),
    )


def test_lan_names_deduplicates() -> None:
    names = lan_names("pichat", ["127.0.0.1", "192.168.1.20"], ["LOCALHOST", "192.168.1.20", ""])
    assert names == CertNames(
        ("localhost", "pichat", "pichat.local"), ("127.0.0.1", "192.168.1.20")
    )


@pytest.mark.parametrize("bad", ["chat oficina", "chat_oficina.lan", "-chat.lan", "señal.lan"])
def test_bad_tls_name_is_refused_in_one_line(bad: str) -> None:
    with pytest.raises(CertificateError, match="TLS_NAMES") as excinfo:
        lan_names("pichat", [], [bad])
    assert "\n" not in str(excinfo.value)


def test_tls_dir_that_cannot_be_created_raises_one_actionable_line(tmp_path: Path) -> None:
    blocker = tmp_path / "instance"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(CertificateError, match="TLS_CERT") as excinfo:
        ensure_certificates(blocker / "tls", NAMES)
    assert "\n" not in str(excinfo.value)


def test_failed_write_keeps_the_old_certificate_whole(tmp_path: Path, monkeypatch) -> None:
    files = ensure_certificates(tmp_path, NAMES)
    before = files.cert_path.read_bytes(), files.key_path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(certificates.os, "fsync", disk_full)
    with pytest.raises(CertificateError, match="No space left"):
        certificates.renew(tmp_path, NAMES)
    assert (files.cert_path.read_bytes(), files.key_path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".lock",
        "ca.crt",
        "ca.key",
        "server.crt",
        "server.key",
    ]


def test_wrong_system_clock_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="1970"):
        ensure_certificates(tmp_path, NAMES, now=datetime(1970, 1, 1, tzinfo=UTC))
    assert not (tmp_path / "ca.key").exists()


def test_wrong_system_clock_keeps_existing_certificates(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path, NAMES)
    prints = certificates.fingerprint(first.ca_path), certificates.fingerprint(first.cert_path)
    again = ensure_certificates(tmp_path, NAMES, now=datetime(1970, 1, 1, tzinfo=UTC))
    assert not again.renewed
    assert (
        certificates.fingerprint(again.ca_path),
        certificates.fingerprint(again.cert_path),
    ) == prints


def test_two_processes_starting_at_once_share_one_ca(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2, timeout=60), spawn.Queue()
    workers = [
        spawn.Process(target=ensure_at_once, args=(barrier, tmp_path, results)) for _ in "ab"
    ]
    try:
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert sorted(renewed for renewed, _ in outcomes) == [False, True]
    assert {ca_print for _, ca_print in outcomes} == {certificates.fingerprint(tmp_path / "ca.crt")}
    files = certificates.TlsFiles(
        tmp_path / "server.crt", tmp_path / "server.key", tmp_path / "ca.crt", False
    )
    verify(files, x509.DNSName("pichat.lan"))
