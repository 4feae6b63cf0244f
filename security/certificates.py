"""A local certificate authority and the server certificate it signs: HTTPS on a LAN, no setup."""

from __future__ import annotations

import fcntl
import inspect
import ipaddress
import os
import re
import secrets
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Staff install the CA once on every device, so it must outlive the hardware and is never rotated:
# ten calendar years, leap days included.
CA_VALIDITY = timedelta(days=3653)
# Apple platforms reject TLS server certificates valid for more than 825 days (the CA/Browser
# Forum limit of the time), even when a locally trusted CA signed them.
SERVER_VALIDITY = timedelta(days=825)
# Renewal happens when PiChat starts: a month of margin covers a server left running for weeks.
RENEW_BEFORE = timedelta(days=30)
# notBefore this far in the past, so a device whose clock runs a little behind accepts a new cert.
CLOCK_SKEW = timedelta(minutes=5)
# A Raspberry Pi has no battery clock: before NTP it may say 1970, and what it signed then would
# look expired to every client. Nothing is signed while the clock is earlier than this.
EARLIEST_PLAUSIBLE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
# A TLS_NAMES entry that is not an IP address must be a host name (a leading "*." is allowed).
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(\*\.)?({_LABEL}\.)*{_LABEL}")

Authority = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
_PKCS8 = (Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


class CertificateError(RuntimeError):
    """The TLS files cannot be created or used; the message says what to do."""


@dataclass(frozen=True)
class CertNames:
    """The DNS names and IP addresses a server certificate must carry."""

    dns: tuple[str, ...]
    ips: tuple[str, ...]


@dataclass(frozen=True)
class TlsFiles:
    """Where the server certificate, its key and the CA are; renewed if the certificate is new."""

    cert_path: Path
    key_path: Path
    ca_path: Path | None  # None when the certificate was given (TLS_CERT), not made here
    renewed: bool


@dataclass(frozen=True)
class CertInfo:
    """What `flask tls show` prints."""

    names: tuple[str, ...]
    not_after: datetime
    days_left: int
    ca_fingerprint: str
    server_fingerprint: str


def lan_names(hostname: str, lan_ips: list[str], extra: list[str]) -> CertNames:
    """The host name, <host>.local, the LAN addresses, localhost, 127.0.0.1 and TLS_NAMES."""
    host = hostname.strip().rstrip(".").lower()
    dns = {"localhost"} | ({host, host.split(".")[0] + ".local"} if host else set())
    ips = {"127.0.0.1", *(str(ipaddress.ip_address(ip.strip())) for ip in lan_ips)}
    for entry in filter(None, (e.strip().rstrip(".").lower() for e in extra)):
        try:
            ips.add(str(ipaddress.ip_address(entry)))
        except ValueError:
            if not _HOST_NAME.fullmatch(entry):
                raise CertificateError(
                    f"{entry!r} is neither an IP address nor a host name; correct TLS_NAMES"
                ) from None
            dns.add(entry)
    return CertNames(dns=tuple(sorted(dns)), ips=tuple(sorted(ips)))


def ensure_certificates(tls_dir: Path, names: CertNames, now: datetime | None = None) -> TlsFiles:
    """Reuse the CA and server certificate in tls_dir; create or renew whichever is unusable."""
    return _provide(Path(tls_dir), names, _moment(now), force=False)


def renew(tls_dir: Path, names: CertNames, now: datetime | None = None) -> TlsFiles:
    """Issue a new server certificate now, signed by the existing CA (made if unusable)."""
    return _provide(Path(tls_dir), names, _moment(now), force=True)


def fingerprint(cert_path: Path) -> str:
    """SHA-256 of the certificate's DER as browsers show it: AB:CD:...:EF."""
    return _load_cert(Path(cert_path)).fingerprint(hashes.SHA256()).hex(":").upper()


def describe(tls_dir: Path, now: datetime | None = None) -> CertInfo:
    """Names, expiry and fingerprints of the server certificate in tls_dir."""
    files = tls_files(Path(tls_dir), renewed=False)
    cert = _load_cert(files.cert_path)
    names = _san(cert)
    return CertInfo(
        names=names.dns + names.ips,
        not_after=cert.not_valid_after_utc,
        days_left=(cert.not_valid_after_utc - _moment(now)).days,
        ca_fingerprint=fingerprint(files.ca_path),
        server_fingerprint=fingerprint(files.cert_path),
    )


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server-side TLS 1.2+ context that serves the certificate in files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # TLS 1.0 and 1.1 are broken, and current browsers refuse them anyway.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.cert_path, files.key_path)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(
            f"Cannot serve {files.cert_path} with {files.key_path} ({exc}); run `flask tls renew`"
        ) from None
    return context


def _provide(tls_dir: Path, names: CertNames, now: datetime, force: bool) -> TlsFiles:
    if not (names.dns or names.ips):
        raise CertificateError("A server certificate needs at least one name or address")
    try:
        tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if tls_dir.stat().st_mode & 0o077:
            tls_dir.chmod(0o700)
        with _locked(tls_dir):
            ca = _usable_ca(tls_dir, now)
            renewed = force or ca is None or not _usable_server(tls_dir, ca[0], names, now)
            if renewed and now < EARLIEST_PLAUSIBLE_TIME:
                raise CertificateError(f"The clock says {now:%Y-%m-%d}; set the date (NTP) first")
            if renewed:
                _write_server(tls_dir, ca or _write_ca(tls_dir, now), names, now)
    except OSError as exc:
        raise CertificateError(
            f"Cannot write the TLS files in {tls_dir} ({exc.strerror or exc}); "
            "make it writable, or set TLS_CERT and TLS_KEY"
        ) from None
    return tls_files(tls_dir, renewed)


def _usable_ca(tls_dir: Path, now: datetime) -> Authority | None:
    """The CA and its key, or None if missing, corrupt, mismatched or about to expire."""
    try:
        cert, key = _load_pair(tls_dir / "ca.crt", tls_dir / "ca.key")
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (FileNotFoundError, ValueError, TypeError, x509.ExtensionNotFound):
        return None
    # notBefore is not checked: a Pi booting with a 1970 clock must not replace an installed CA.
    # With under RENEW_BEFORE left, no certificate it signs could last: as good as expired.
    if not is_ca or cert.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    return cert, key


def _usable_server(tls_dir: Path, ca: x509.Certificate, names: CertNames, now: datetime) -> bool:
    """Whether server.crt matches its key, was signed by ca, lasts, and carries exactly names."""
    try:
        cert, _ = _load_pair(tls_dir / "server.crt", tls_dir / "server.key")
        cert.verify_directly_issued_by(ca)
        current = _san(cert)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    same_names = set(current.dns) == set(names.dns) and set(current.ips) == set(names.ips)
    return same_names and cert.not_valid_after_utc - now >= RENEW_BEFORE


def _load_pair(cert_path: Path, key_path: Path) -> Authority:
    """The certificate and its EC private key; ValueError if they do not belong together."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise ValueError(f"{key_path} is not the key of {cert_path}")
    return cert, key


def _write_ca(tls_dir: Path, now: datetime) -> Authority:
    # The random part tells apart the CAs of two PiChat servers with the same host name.
    name = _name(f"PiChat CA {socket.gethostname()[:40]} {secrets.token_hex(3)}")
    extensions = [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (_key_usage("key_cert_sign", "crl_sign"), True),
    ]
    return _issue(tls_dir / "ca", name, None, now, CA_VALIDITY, extensions)


def _write_server(tls_dir: Path, ca: Authority, names: CertNames, now: datetime) -> None:
    alt_names = [x509.DNSName(name) for name in names.dns]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in names.ips]
    extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage("digital_signature"), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        # Browsers match only the SAN (they ignore the CN), so every name goes here.
        (x509.SubjectAlternativeName(alt_names), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[1].public_key()), False),
    ]
    _issue(
        tls_dir / "server", _name(socket.gethostname()[:64]), ca, now, SERVER_VALIDITY, extensions
    )


def _issue(
    stem: Path,
    subject: x509.Name,
    issuer: Authority | None,
    now: datetime,
    lifetime: timedelta,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> Authority:
    """A new key and its certificate signed by issuer (self-signed if None), in stem.key/.crt."""
    start = now - CLOCK_SKEW
    # notAfter is itself a valid second (RFC 5280): end one second early to last exactly lifetime.
    end = start + lifetime - timedelta(seconds=1)
    if issuer:  # a certificate is worth no more than its issuer: it must not outlive the CA
        end = min(end, issuer[0].not_valid_after_utc)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = (issuer[0].subject, issuer[1]) if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    for extension, critical in [*extensions, (key_id, False)]:
        builder = builder.add_extension(extension, critical=critical)
    cert = builder.sign(issuer_key, hashes.SHA256())
    # Key first, then certificate: a crash between them leaves a mismatch the next start redoes.
    _write_atomic(stem.with_suffix(".key"), key.private_bytes(*_PKCS8), 0o600)
    _write_atomic(stem.with_suffix(".crt"), cert.public_bytes(Encoding.PEM), 0o644)
    return cert, key


def _key_usage(*allowed: str) -> x509.KeyUsage:
    flags = inspect.signature(x509.KeyUsage).parameters
    return x509.KeyUsage(**{flag: flag in allowed for flag in flags})


def _name(common_name: str) -> x509.Name:
    pairs = [(NameOID.COMMON_NAME, common_name or "PiChat"), (NameOID.ORGANIZATION_NAME, "PiChat")]
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace path so that a reader sees the old file or the whole new one, never a part."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def _locked(tls_dir: Path) -> Iterator[None]:
    """An exclusive lock, so two processes starting at once do not both write."""
    fd = os.open(tls_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def tls_files(tls_dir: Path, renewed: bool = False) -> TlsFiles:
    """Where the CA and server files of `tls_dir` are (whether or not they exist yet)."""
    return TlsFiles(tls_dir / "server.crt", tls_dir / "server.key", tls_dir / "ca.crt", renewed)


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertificateError(f"Cannot read {path} ({exc}); run `flask tls renew`") from None


def _san(cert: x509.Certificate) -> CertNames:
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return CertNames((), ())
    dns = [name.lower() for name in alt.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in alt.get_values_for_type(x509.IPAddress)]
    return CertNames(tuple(sorted(dns)), tuple(sorted(ips)))


def _moment(now: datetime | None) -> datetime:
    return now.astimezone(UTC) if now else datetime.now(UTC)
