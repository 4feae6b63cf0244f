"""MicroNAS core: quarantine storage, type sniffing, built-in scanner and clamd client.

The clamd fixtures (``clamd``, ``fake_clamd``) come from tests/services.py, a plugin of conftest.
"""

import hashlib
import io
import os
import socket
import struct
import threading
import time
import zipfile
import zlib

import pytest

from errors import Refusal
from nas import allowed_types, build_scanner
from nas.builtin_scanner import BuiltinScanner
from nas.clamd import ClamdScanner
from nas.quarantine import EmptyUpload, Quarantine, QuarantineError, UploadTooLarge
from nas.scan_result import ScannerUnavailable
from nas.sniff import DEFAULT_ALLOWED, check_type
from tests.services import start_clamd

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


class ChunkedStream(io.RawIOBase):
    """A client upload that arrives in pieces and may break after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self.data, self.pos, self.fail_after, self.reads = data, 0, fail_after, []

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError("client went away")
        chunk = self.data[self.pos:self.pos + min(size, 1000)]
        self.pos += len(chunk)
        return chunk


def _stored_names(base):
    return sorted(os.listdir(base))


def test_store_and_commit_stream_hash_and_keep_head(tmp_path):
    data = os.urandom(200_000)
    quarantine, stream = Quarantine(tmp_path / "q"), ChunkedStream(data)
    blob = quarantine.store(stream, max_bytes=10**6, chunk_size=4096)
    assert all(0 < size <= 4096 for size in stream.reads)
    assert (blob.size, blob.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert blob.head == data[:8192]
    assert _stored_names(tmp_path / "q") == [blob.file_id + ".part"]
    final = quarantine.commit(blob)
    assert _stored_names(tmp_path / "q") == [blob.file_id]
    with open(final, "rb") as handle:
        assert handle.read() == data
    assert oct(os.stat(final).st_mode & 0o777) == "0o600"
    assert quarantine.path_for(blob.file_id) == final


def test_upload_of_exactly_max_bytes_is_accepted(tmp_path):
    blob = Quarantine(tmp_path).store(io.BytesIO(b"x" * 1000), max_bytes=1000, chunk_size=64)
    assert blob.size == 1000


@pytest.mark.parametrize(
    ("stream", "error"),
    [(io.BytesIO(b"x" * 1001), UploadTooLarge), (io.BytesIO(b""), EmptyUpload),
     (ChunkedStream(b"y" * 5000, fail_after=3000), OSError)],
    ids=["one-byte-over", "empty", "client-breaks-mid-stream"])
def test_failed_store_leaves_no_file(tmp_path, stream, error):
    with pytest.raises(error):
        Quarantine(tmp_path).store(stream, max_bytes=1000 if error is UploadTooLarge else 10**6)
    assert _stored_names(tmp_path) == []


def test_oversized_upload_is_not_read_past_the_limit(tmp_path):
    stream = ChunkedStream(b"z" * 10**6)
    with pytest.raises(UploadTooLarge):
        Quarantine(tmp_path).store(stream, max_bytes=5000, chunk_size=4096)
    assert stream.pos == 5001


@pytest.mark.parametrize("file_id", [
    "../etc/passwd", "", "..", "0" * 31, "0" * 33, "A" * 32, "g" * 32, "0" * 31 + "/",
    "/tmp/" + "0" * 27, "0" * 31 + "\0", None, 123,
])
def test_path_for_rejects_ids_that_are_not_32_lowercase_hex(tmp_path, file_id):
    with pytest.raises(QuarantineError):
        Quarantine(tmp_path).path_for(file_id)


def test_delete_and_discard_remove_files_and_missing_is_fine(tmp_path):
    quarantine = Quarantine(tmp_path)
    kept, dropped = (quarantine.store(io.BytesIO(b"data"), 100) for _ in range(2))
    quarantine.discard(dropped)
    quarantine.commit(kept)
    quarantine.delete(kept.file_id)
    quarantine.delete(kept.file_id)
    assert _stored_names(tmp_path) == []
    assert not os.path.exists(quarantine.path_for(kept.file_id))


def test_reconcile_removes_stale_parts_and_orphans_and_reports_missing(tmp_path):
    ids = {name: f"{n:032x}" for n, name in enumerate(["known", "lost", "orphan", "new"])}
    for name in ("known", "orphan", "new"):
        (tmp_path / ids[name]).write_bytes(b"x")
    for path in (tmp_path / ids["orphan"], tmp_path / (ids["lost"] + ".part")):
        path.write_bytes(b"x")
        os.utime(path, (time.time() - 7200,) * 2)
    (tmp_path / (ids["new"] + ".part")).write_bytes(b"in flight")
    (tmp_path / ".gitkeep").write_bytes(b"")
    report = Quarantine(tmp_path).reconcile({ids["known"], ids["lost"]})
    assert report.removed == sorted([ids["orphan"], ids["lost"] + ".part"])
    assert report.missing == {ids["lost"]}
    assert _stored_names(tmp_path) == sorted(
        [".gitkeep", ids["known"], ids["new"], ids["new"] + ".part"])
    Quarantine(tmp_path).reconcile({ids["known"]}, min_age_seconds=0)
    assert _stored_names(tmp_path) == [".gitkeep", ids["known"]]


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))


def _zip(*names: str, first: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(*first)
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 6 + b",\x00\x00\x00\x00\x01\x00\x01\x00;"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 40
MZ = b"MZ" + b"\x00" * 100
DOCX = _zip("word/document.xml", first=("[Content_Types].xml", "<Types/>"))
XLSX = _zip("xl/workbook.xml", first=("[Content_Types].xml", "<Types/>"))
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes.fromhex("0d0000002f00000010071011118888fe0700")
ODT = _zip("content.xml", first=("mimetype", "application/vnd.oasis.opendocument.text"))


@pytest.mark.parametrize(("head", "name", "mime"), [
    (PDF, "informe.pdf", "application/pdf"),
    (_png(), "foto.PNG", "image/png"),
    (JPEG, "foto.jpeg", "image/jpeg"),
    (GIF, "anim.gif", "image/gif"),
    (WEBP, "foto.webp", "image/webp"),
    (_zip("a.txt"), "paquete.zip", "application/zip"),
    (b"nombre,edad,ciudad\nana,30,madrid\nluis,25,sevilla\n", "datos.csv", "text/csv"),
    (b"a;b\n1;2\n", "datos.csv", "text/plain"),
    ("hola, año nuevo\n".encode(), "notas.txt", "text/plain"),
    (DOCX, "carta.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (XLSX, "hoja.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (ODT, "carta.odt", "application/vnd.oasis.opendocument.text"),
])
def test_allowed_types_are_accepted(head, name, mime):
    assert check_type(head, name) == mime


@pytest.mark.parametrize(("head", "name"), [
    (ELF, "informe.pdf"), (MZ, "informe.pdf"), (MZ, "setup.exe"), (b"hola\n", "setup.exe"),
    (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "informe.pdf"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.png"),
    (b"<?php system($_GET['c']); ?>\n", "notas.txt"), (b"hola\n", "shell.php"),
    (b"#!/bin/sh\nrm -rf /\n", "notas.txt"), (b"echo hola\n", "run.sh"),
    (b"AddType application/x-httpd-php .jpg\n", ".htaccess"), (b"hola\n", "LEEME"),
    (PDF, "foto.png"), (_zip("a.txt"), "informe.pdf"), (DOCX, "carta.pdf"),
])
def test_disallowed_types_and_mismatched_extensions_are_rejected(head, name):
    with pytest.raises(Refusal) as refused:
        check_type(head, name)
    assert (refused.value.status, refused.value.code) == (415, "unsupported_type")


@pytest.mark.parametrize(("head", "name", "message"), [
    (b"hola\n", "LEEME", "no tiene extensión"),
    (PDF, "foto.png", "La extensión .png no corresponde"),
    (_png(), "foto.webp", "no corresponde"),
    (b"<html><body>hola</body></html>", "a.txt", "nunca se admite"),
])
def test_rejections_explain_why_in_spanish(head, name, message):
    with pytest.raises(Refusal, match=message):
        check_type(head, name)


def test_custom_allowlist_limits_types_and_office_zips():
    only_pdf = allowed_types({"application/pdf": frozenset({"pdf"})})
    assert check_type(PDF, "a.pdf", only_pdf) == "application/pdf"
    for head, name in ((_png(), "a.png"), (XLSX, "a.xlsx")):
        with pytest.raises(Refusal):
            check_type(head, name, only_pdf)


def test_without_allowed_types_micronas_uses_its_own_list():
    assert allowed_types(None) is DEFAULT_ALLOWED
    assert set(DEFAULT_ALLOWED["image/jpeg"]) == {"jpg", "jpeg"}


@pytest.mark.parametrize("allowed", [
    {"text/html": frozenset({"html"})}, {"text/plain": frozenset({"txt", "php"})},
    {"application/x-dosexec": frozenset({"exe"})},
])
def test_allowed_types_that_admit_programs_or_markup_stop_start_up(allowed):
    with pytest.raises(Refusal, match="never allowed"):
        allowed_types(allowed)


def _write(tmp_path, data: bytes, name: str = "upload") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("offset", [0, 65536 - 30, 65536 - len(EICAR), 10**6])
def test_builtin_scanner_finds_eicar_anywhere_even_across_chunks(tmp_path, offset):
    data = b"a" * offset + EICAR + b"b" * 100
    result = BuiltinScanner().scan_file(_write(tmp_path, data))
    assert (result.clean, result.signature, result.engine) == (False, "Eicar-Test-Signature",
                                                               "builtin")


def test_builtin_scanner_with_tiny_chunks_still_finds_eicar(tmp_path):
    path = _write(tmp_path, b"x" * 33 + EICAR)
    assert BuiltinScanner(chunk_size=7).scan_file(path).signature == "Eicar-Test-Signature"


def test_builtin_scanner_passes_a_clean_file(tmp_path):
    almost = EICAR[:-1] + b"-" + b"\n" * 100
    result = BuiltinScanner().scan_file(_write(tmp_path, almost))
    assert result.clean and result.signature is None
    assert result.version.startswith("builtin-") and len(result.version) == len("builtin-") + 12


def test_builtin_scanner_flags_a_blocklisted_hash(tmp_path):
    bad = b"not a virus, but listed\n"
    digest = hashlib.sha256(bad).hexdigest()
    blocklist = _write(tmp_path, f"# test list\n\n{digest.upper()}  # shouting\n".encode(), "bl")
    scanner = BuiltinScanner(blocklist)
    result = scanner.scan_file(_write(tmp_path, bad))
    assert (result.clean, result.signature) == (False, f"PiChat.Blocklist.{digest[:12]}")
    assert scanner.scan_file(_write(tmp_path, b"other", "ok")).clean
    assert scanner.version() != BuiltinScanner().version()


def test_shipped_blocklist_lists_eicar_and_a_bad_line_is_refused(tmp_path):
    scanner = BuiltinScanner()
    assert scanner.scan_file(_write(tmp_path, EICAR)).signature == "Eicar-Test-Signature"
    with open("nas/signatures/blocklist.txt") as handle:
        assert EICAR_SHA256 in handle.read().split()
    with pytest.raises(ValueError):
        BuiltinScanner(_write(tmp_path, b"abc123\n", "bad"))


def test_build_scanner_picks_clamd_only_when_configured():
    settings = {"CLAMD_SOCKET": None, "CLAMD_HOST": None, "CLAMD_PORT": 3310,
                "CLAMD_TIMEOUT": 30.0, "SCAN_BLOCKLIST": None}
    by_socket = build_scanner(settings | {"CLAMD_SOCKET": "/run/clamd.sock", "CLAMD_TIMEOUT": 5})
    assert (by_socket.name, by_socket.address, by_socket.timeout) == (
        "clamd", "/run/clamd.sock", 5)
    by_host = build_scanner(settings | {"CLAMD_HOST": "10.0.0.5"})
    assert (by_host.address, by_host.timeout) == (("10.0.0.5", 3310), 30.0)
    assert build_scanner(settings).name == "builtin"


def test_a_malformed_block_list_stops_start_up_with_its_line(tmp_path):
    settings = {"CLAMD_SOCKET": None, "CLAMD_HOST": None,
                "SCAN_BLOCKLIST": _write(tmp_path, b"abc123\n", "bad")}
    with pytest.raises(Refusal, match="SCAN_BLOCKLIST: .*bad:1"):
        build_scanner(settings)


def test_clamd_finds_eicar_and_passes_a_clean_file(clamd, tmp_path):
    scanner = ClamdScanner(clamd.socket, timeout=10)
    assert scanner.version().startswith("ClamAV ")
    infected = scanner.scan_file(_write(tmp_path, b"a" * 300_000 + EICAR, "bad"))
    assert not infected.clean and infected.signature.startswith("PiChat.Test.EICAR")
    clean = scanner.scan_file(_write(tmp_path, os.urandom(300_000), "ok"))
    assert (clean.clean, clean.signature, clean.engine) == (True, None, "clamd")
    assert clean.version == scanner.version()


def test_clamd_stopped_is_unavailable_fast_and_recovers(clamd, tmp_path):
    scanner = ClamdScanner(clamd.socket, timeout=10)
    path = _write(tmp_path, b"hola\n")
    clamd.stop()
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable):
        scanner.scan_file(path)
    with pytest.raises(ScannerUnavailable):
        scanner.version()
    assert time.monotonic() - started < 2
    clamd.start()
    assert scanner.scan_file(path).clean


@pytest.fixture(scope="module")
def small_clamd(tmp_path_factory):
    """A real clamd whose limits a test file can pass: 1 MiB stream, 100 KiB per file."""
    daemon = start_clamd(tmp_path_factory.mktemp("clamd-small"),
                         StreamMaxLength="1M", MaxFileSize="100K")
    yield daemon
    daemon.stop()


def test_real_clamd_file_past_max_file_size_is_blocked_as_a_limit(small_clamd, tmp_path):
    scanner = ClamdScanner(small_clamd.socket, timeout=10)
    assert scanner.scan_file(_write(tmp_path, b"hola\n", "small")).clean
    result = scanner.scan_file(_write(tmp_path, b"a" * 500_000 + EICAR))
    assert not result.clean and result.signature.startswith("Heuristics.Limits.Exceeded")


def test_real_clamd_stream_past_its_max_length_has_no_verdict(small_clamd, tmp_path):
    scanner = ClamdScanner(small_clamd.socket, timeout=10)
    with pytest.raises(ScannerUnavailable, match="size limit"):
        scanner.scan_file(_write(tmp_path, b"a" * 3_000_000 + EICAR))


@pytest.mark.parametrize(("reply", "early"), [
    (b"INSTREAM size limit exceeded. ERROR\0", True),
    (b"stream: Can't allocate memory ERROR\0", False),
    (b"", False), (None, False), (b"\xff\xfe\x00", False), (b"stream: FOUND\0", False),
    (b"stream: " + b"A" * 10_000, False),
], ids=["size-limit", "error", "empty", "silent", "garbled", "no-sig", "endless"])
def test_clamd_replies_without_a_verdict_raise_unavailable(fake_clamd, tmp_path, reply, early):
    fake = fake_clamd(reply, early)
    scanner = ClamdScanner(fake.socket, timeout=1.0, chunk_size=4096)
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable):
        scanner.scan_file(_write(tmp_path, os.urandom(2_000_000)))
    assert time.monotonic() - started < 5


def test_clamd_limits_alert_is_a_verdict_that_blocks(fake_clamd, tmp_path):
    fake = fake_clamd(b"stream: Heuristics.Limits.Exceeded.MaxRecursion FOUND\0")
    result = ClamdScanner(fake.socket, timeout=1.0).scan_file(_write(tmp_path, b"zip\n"))
    assert (result.clean, result.signature) == (False, "Heuristics.Limits.Exceeded.MaxRecursion")


def test_clamd_client_reads_found_over_tcp(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def serve() -> None:
            for expected in (b"zVERSION\0", b"zINSTREAM\0"):
                conn, _ = listener.accept()
                with conn:
                    assert conn.recv(len(expected)) == expected
                    if expected == b"zINSTREAM\0":
                        while conn.recv(65536)[-4:] != b"\0\0\0\0":
                            pass
                    conn.sendall(b"ClamAV 1.0.9/27000/x\0" if expected == b"zVERSION\0"
                                 else b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        scanner = ClamdScanner(("127.0.0.1", listener.getsockname()[1]), timeout=5)
        result = scanner.scan_file(_write(tmp_path, b"tiny"))
        thread.join(5)
    assert (result.clean, result.signature, result.version) == (
        False, "Win.Test.EICAR_HDB-1", "ClamAV 1.0.9/27000/x")
