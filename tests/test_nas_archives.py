"""The built-in scanner inside ZIP containers: nested members, office documents and the limits."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import zipfile
import zlib

import pytest

from nas import archives
from nas.builtin_scanner import DEFAULT_BLOCKLIST, BuiltinScanner
from tests.micronas import EICAR, MIB

ODT_MIME = "application/vnd.oasis.opendocument.text"


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding ``members`` (name: content), in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def nest(data: bytes, levels: int) -> bytes:
    """``data`` as eicar.txt inside ``levels`` zips, each inside the next (names say nothing)."""
    packed = make_zip({"eicar.txt": data})
    for level in range(levels - 1):
        packed = make_zip({f"capa{level}.dat": packed})
    return packed


def docx(body: bytes) -> bytes:
    """A minimal Office Open XML document whose main part is ``body``."""
    return make_zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>",
                     "word/document.xml": body})


def scan(tmp_path, data: bytes, scanner: BuiltinScanner | None = None):
    """Write ``data`` to a file and scan it with the built-in scanner."""
    path = tmp_path / "upload"
    path.write_bytes(data)
    return (scanner or BuiltinScanner()).scan_file(str(path))


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """``size`` zero bytes deflated raw (as zip stores them), quickly; and their CRC-32."""
    block, crc = bytes(MIB), 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = []
    for _ in range(size // MIB):
        parts.append(packer.compress(block))
        crc = zlib.crc32(block, crc)
    parts.append(packer.flush())
    return b"".join(parts), crc


def bomb(size: int) -> bytes:
    """A zip with one member inflating to ``size`` zero bytes, built without inflating it."""
    payload, crc = deflated_zeros(size)
    name = b"ceros.bin"
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(payload), size,
                        len(name), 0) + name
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(payload),
                          size, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(payload), 0)
    return local + payload + central + end


def encrypted_zip(data: bytes) -> bytes:
    """A zip whose one stored member is flagged encrypted (zipfile cannot encrypt)."""
    plain = make_zip({"secreto.txt": data}, method=zipfile.ZIP_STORED)
    local_flags, central = 6, plain.rindex(b"PK\x01\x02")
    patched = bytearray(plain)
    for flags_at in (local_flags, central + 8):
        flags = struct.unpack_from("<H", patched, flags_at)[0]
        struct.pack_into("<H", patched, flags_at, flags | 0x1)
    return bytes(patched)


class CountingReads:
    """Counts the bytes zipfile inflates out of members, to show where a scan stopped."""

    def __init__(self, monkeypatch) -> None:
        self.inflated = 0
        original = zipfile.ZipExtFile.read

        def read(member, size=-1):
            chunk = original(member, size)
            self.inflated += len(chunk)
            return chunk

        monkeypatch.setattr(zipfile.ZipExtFile, "read", read)


def test_eicar_inside_a_zip_is_found(tmp_path):
    result = scan(tmp_path, make_zip({"leeme.txt": b"hola\n", "eicar.txt": EICAR}))
    assert (result.clean, result.signature) == (False, "Eicar-Test-Signature")


def test_eicar_three_zips_deep_is_found(tmp_path):
    assert scan(tmp_path, nest(EICAR, 3)).signature == "Eicar-Test-Signature"


def test_a_zip_four_deep_is_blocked_as_too_deep(tmp_path):
    result = scan(tmp_path, nest(b"inofensivo\n", 4))
    assert (result.clean, result.signature) == (False, "PiChat.Archive.TooDeep")


def test_clean_nested_zips_within_the_depth_pass(tmp_path):
    assert scan(tmp_path, nest(b"inofensivo\n", 3)).clean


def test_a_nested_zip_is_recognised_by_content_not_name(tmp_path):
    data = make_zip({"foto.jpg": make_zip({"x.txt": EICAR})})
    assert scan(tmp_path, data).signature == "Eicar-Test-Signature"


def test_a_blocklisted_member_is_found_by_its_hash(tmp_path):
    bad = b"informe que hoy se sabe malicioso\n"
    digest = hashlib.sha256(bad).hexdigest()
    blocklist = tmp_path / "bl.txt"
    blocklist.write_text(f"{digest}\n")
    result = scan(tmp_path, make_zip({"a/informe.txt": bad}), BuiltinScanner(str(blocklist)))
    assert (result.clean, result.signature) == (False, f"PiChat.Blocklist.{digest[:12]}")


def test_eicar_in_a_docx_part_is_found(tmp_path):
    assert scan(tmp_path, docx(b"<w:t>" + EICAR + b"</w:t>")).signature == "Eicar-Test-Signature"


def test_eicar_in_an_odt_part_is_found(tmp_path):
    odt = make_zip({"mimetype": ODT_MIME.encode(), "content.xml": b"<office/>",
                    "Pictures/logo.png": EICAR})
    assert scan(tmp_path, odt).signature == "Eicar-Test-Signature"


def test_a_clean_docx_passes(tmp_path):
    result = scan(tmp_path, docx(b"<w:document><w:t>Acta de la reunion</w:t></w:document>"))
    assert (result.clean, result.signature) == (True, None)


def test_an_encrypted_member_is_blocked(tmp_path):
    result = scan(tmp_path, encrypted_zip(b"no se puede leer\n"))
    assert (result.clean, result.signature) == (False, "PiChat.Archive.Encrypted")


def test_a_zip_bomb_is_stopped_by_its_ratio_before_it_is_inflated(tmp_path, monkeypatch):
    data = bomb(200 * MIB)
    reads = CountingReads(monkeypatch)
    started = time.monotonic()
    result = scan(tmp_path, data)
    assert (result.clean, result.signature) == (False, "PiChat.Archive.Ratio")
    # Stopped once past 100 times its compressed size (~20 MiB), not at 200 MiB.
    assert reads.inflated <= archives.MAX_RATIO * len(data) + archives.RATIO_FLOOR_BYTES
    assert time.monotonic() - started < 2


def test_inflating_past_the_total_limit_is_stopped_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_INFLATED_BYTES", 3 * MIB)
    members = {f"parte{n}.bin": os.urandom(MIB) for n in range(6)}  # incompressible
    reads = CountingReads(monkeypatch)
    result = scan(tmp_path, make_zip(members))
    assert (result.clean, result.signature) == (False, "PiChat.Archive.TooLarge")
    assert 3 * MIB < reads.inflated <= 3 * MIB + 64 * 1024


def test_a_small_member_that_compresses_well_is_not_a_bomb(tmp_path):
    assert scan(tmp_path, make_zip({"ceros.bin": bytes(archives.RATIO_FLOOR_BYTES)})).clean


def test_more_than_ten_thousand_members_is_blocked(tmp_path):
    members = {f"m{n}": b"" for n in range(archives.MAX_MEMBERS + 1)}
    result = scan(tmp_path, make_zip(members, method=zipfile.ZIP_STORED))
    assert (result.clean, result.signature) == (False, "PiChat.Archive.TooManyMembers")


def test_members_of_nested_zips_count_together(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_MEMBERS", 5)
    inner = make_zip({f"m{n}": b"x" for n in range(3)})
    result = scan(tmp_path, make_zip({"a.zip": inner, "b.zip": inner}))
    assert result.signature == "PiChat.Archive.TooManyMembers"


def test_a_truncated_zip_is_blocked_as_corrupt(tmp_path):
    data = make_zip({"leeme.txt": b"hola\n" * 1000})
    result = scan(tmp_path, data[: len(data) // 2])
    assert (result.clean, result.signature) == (False, "PiChat.Archive.Corrupt")


def test_a_member_with_damaged_data_is_blocked_as_corrupt(tmp_path):
    data = bytearray(make_zip({"leeme.txt": b"hola, que tal\n" * 1000}))
    data[40:60] = b"\xff" * 20  # inside the deflated stream, after the local header
    assert scan(tmp_path, bytes(data)).signature == "PiChat.Archive.Corrupt"


def test_a_zip_appended_to_another_file_is_opened(tmp_path):
    polyglot = b"%PDF-1.4\n" + b"x" * 100 + make_zip({"eicar.txt": EICAR}, zipfile.ZIP_DEFLATED)
    assert scan(tmp_path, polyglot).signature == "Eicar-Test-Signature"


def test_scanner_version_changed_with_the_archive_logic():
    with open(DEFAULT_BLOCKLIST, "rb") as handle:
        old = "builtin-" + hashlib.sha256(handle.read()).hexdigest()[:12]
    version = BuiltinScanner().version()
    assert version != old
    assert version.startswith("builtin-") and len(version) == len(old)


def test_uploaded_zip_holding_eicar_is_infected_and_never_served(app, micronas):
    app.config["NAS_SCAN_INLINE"] = True
    client = app.test_client()
    body = micronas.store(client, "paquete.zip", nest(EICAR, 2), user="cliente")
    assert (body["status"], body["signature"]) == ("infected", "Eicar-Test-Signature")
    assert client.get(f"/api/files/{body['id']}/download").status_code == 403


@pytest.mark.parametrize("name", ["informe.docx", "paquete.zip"])
def test_uploaded_clean_container_is_served(app, micronas, name):
    app.config["NAS_SCAN_INLINE"] = True
    client = app.test_client()
    data = docx(b"<w:t>hola</w:t>") if name.endswith("docx") else make_zip({"a.txt": b"a\n"})
    body = micronas.store(client, name, data, user="cliente")
    assert body["status"] == "clean"
    assert client.get(f"/api/files/{body['id']}/download").status_code == 200
