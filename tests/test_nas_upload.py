"""MicroNAS uploads: roles, size limits, names, type checks, CSRF, streaming, rate limit."""

from __future__ import annotations

import hashlib
import io
import os
from urllib.parse import quote

import pytest

from tests.micronas import MIB, PDF


def multipart_body(filename: str, data: bytes, before: dict[str, str] | None = None) -> bytes:
    """A multipart body whose file name travels as RFC 5987 filename*, as browsers may send."""
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (before or {}).items()
    ]
    parts.append(
        b'--B\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\''
        + quote(filename, safe="").encode() + b"\r\nContent-Type: text/plain\r\n\r\n"
        + data + b"\r\n--B--\r\n"
    )
    return b"".join(parts)


def post_raw(client, body: bytes, **kwargs):
    """POST a hand-made multipart body with boundary B."""
    return client.post("/api/files", data=body, content_type="multipart/form-data; boundary=B",
                       **kwargs)


def test_usuario_cannot_upload(app, client, login, micronas, read_audit):
    login(client, "usuario")
    answer = micronas.upload(client, "notas.txt", b"hola\n")
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "forbidden"
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []
    assert read_audit(app)[0]["event"] == "access_denied"


def test_anonymous_upload_is_refused(app, client, micronas):
    answer = micronas.upload(client, "notas.txt", b"hola\n")
    assert answer.status_code == 401
    assert micronas.quarantine(app) == []


@pytest.mark.parametrize("user", ["cliente", "admin"])
def test_upload_is_stored_under_a_random_id_and_announced(app, client, emitted, user, login,
                                                          micronas, read_audit):
    data = b"acta de la reunion\n" * 100
    login(client, user)
    answer = micronas.upload(client, "acta.txt", data)
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["name"] == "acta.txt" and body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["mime"], body["status"], body["uploaded_by"]) == ("text/plain", "pending", user)
    assert micronas.quarantine(app) == [body["id"]]
    with open(os.path.join(app.config["QUARANTINE_DIR"], body["id"]), "rb") as handle:
        assert handle.read() == data
    assert micronas.row(app, body["id"]).display_name == "acta.txt"
    assert emitted.of("file_added") == [(body, "lobby")]
    uploaded = read_audit(app)[0]
    assert (uploaded["event"], uploaded["user"], uploaded["target"]) == (
        "file_uploaded", user, body["id"])


def test_exactly_the_maximum_size_is_accepted(app, client, login, micronas):
    login(client, "cliente")
    answer = micronas.upload(client, "grande.txt", b"a" * (16 * MIB))
    assert answer.status_code == 201
    assert answer.get_json()["size"] == 16 * MIB


def test_over_the_maximum_size_is_refused_and_leaves_nothing(app, client, login, micronas):
    login(client, "cliente")
    answer = micronas.upload(client, "grande.txt", b"a" * (16 * MIB + 1024))
    assert answer.status_code == 413
    assert answer.get_json() == {"error": "too_large",
                                 "message": "El archivo supera el máximo de 16 MB."}
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []


def test_body_over_the_request_limit_is_refused_before_reading(app, client, login, micronas):
    login(client, "cliente")
    answer = micronas.upload(client, "enorme.txt", b"a" * (18 * MIB))
    assert answer.status_code == 413
    assert answer.get_json()["error"] == "too_large"
    assert micronas.quarantine(app) == []


@pytest.mark.parametrize("body, content_type", [
    (multipart_body("vacio.txt", b""), "multipart/form-data; boundary=B"),
    (b"--B--\r\n", "multipart/form-data; boundary=B"),
    (b"file=hola", "application/x-www-form-urlencoded"),
    (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhola",
     "multipart/form-data; boundary=B"),
])
def test_empty_missing_or_broken_file_is_a_bad_request(app, client, body, content_type, login,
                                                       micronas):
    login(client, "cliente")
    answer = client.post("/api/files", data=body, content_type=content_type)
    assert answer.status_code == 400
    assert answer.get_json()["message"]
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []


def test_upload_cut_halfway_leaves_nothing(app, client, login, micronas):
    body = multipart_body("cortado.txt", b"x" * 300_000)
    login(client, "cliente")
    answer = post_raw(client, b"", input_stream=io.BytesIO(body[:150_000]),
                      headers={"Content-Length": str(len(body))})
    assert answer.status_code == 400
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []


def test_upload_without_csrf_token_is_refused_and_audited(app, client, login, micronas, read_audit):
    login(client, "cliente")
    answer = micronas.upload(client, "notas.txt", b"hola\n", csrf=False)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "csrf"
    assert micronas.quarantine(app) == []
    assert read_audit(app)[0]["event"] == "csrf_rejected"


def test_csrf_token_may_come_as_a_field_before_the_file(app, client, login):
    login(client, "cliente")
    body = multipart_body("notas.txt", b"hola\n", before={"csrf_token": client.csrf_token()})
    assert post_raw(client, body, csrf=False).status_code == 201


class WatchedBody(io.BytesIO):
    """A request body that notes what the quarantine held when half of it had been read."""

    def __init__(self, data: bytes, quarantine_dir: str) -> None:
        super().__init__(data)
        self.quarantine_dir, self.seen_midway, self.largest_read = quarantine_dir, None, 0

    def readinto(self, buffer) -> int:  # werkzeug's LimitedStream reads the body this way
        size = super().readinto(buffer)
        self.largest_read = max(self.largest_read, size)
        if self.seen_midway is None and self.tell() > len(self.getvalue()) // 2:
            self.seen_midway = {name: os.path.getsize(os.path.join(self.quarantine_dir, name))
                                for name in os.listdir(self.quarantine_dir)}
        return size


def test_upload_streams_into_quarantine_while_it_arrives(app, client, login):
    body = multipart_body("flujo.txt", b"y" * (4 * MIB))
    watched = WatchedBody(body, app.config["QUARANTINE_DIR"])
    login(client, "cliente")
    answer = post_raw(client, b"", input_stream=watched, headers={"Content-Length": str(len(body))})
    assert answer.status_code == 201
    (name, size), = watched.seen_midway.items()
    assert name.endswith(".part") and size > MIB
    assert watched.largest_read <= 64 * 1024


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\win.txt", "win.txt"),
    ("nota\x00s.txt", "notas.txt"),
    ("acta\r\nSet-Cookie: x.txt", "actaSet-Cookie_ x.txt"),
    ("informe\u202etxt.exe\u202c.txt", "informetxt.exe.txt"),
    ("a" * 300 + ".txt", "a" * 196 + ".txt"),
    ("informe_año.txt", "informe_año.txt"),
])
def test_client_names_are_sanitized_and_never_reach_the_disk(app, client, raw, shown, login,
                                                             micronas):
    login(client, "cliente")
    answer = post_raw(client, multipart_body(raw, b"contenido\n"))
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["name"] == shown
    assert micronas.quarantine(app) == [body["id"]]
    assert len(body["id"]) == 32 and int(body["id"], 16) >= 0


@pytest.mark.parametrize("name, data, claimed", [
    ("factura.pdf", b"<!doctype html><html><script>alert(1)</script></html>", "application/pdf"),
    ("foto.png", b"MZ\x90\x00\x03" + b"\x00" * 200 + b"This program cannot be run in DOS mode",
     "image/png"),
    ("notas.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "text/plain"),
    ("script.sh", b"#!/bin/sh\nrm -rf /\n", "text/plain"),
    ("index.php", b"<?php system($_GET['c']); ?>\n", "text/plain"),
    (".htaccess", b"Options +ExecCGI\n", "text/plain"),
    ("herramienta.exe", b"hola\n", "text/plain"),
    ("sinextension", b"hola\n", "text/plain"),
    ("informe.pdf", b"solo texto\n", "application/pdf"),
])
def test_content_that_is_not_an_allowed_type_is_refused(app, client, name, data, claimed, login,
                                                        micronas):
    login(client, "cliente")
    answer = micronas.upload(client, name, data, content_type=claimed)
    assert answer.status_code == 415
    assert answer.get_json()["error"] == "unsupported_type"
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []


def test_pdf_with_unicode_name_is_accepted_by_its_content(app, client, login, micronas):
    login(client, "cliente")
    answer = micronas.upload(client, "informe_año.pdf", PDF,
                             content_type="application/octet-stream")
    assert answer.status_code == 201
    assert (answer.get_json()["name"], answer.get_json()["mime"]) == (
        "informe_año.pdf", "application/pdf")


def test_sixth_upload_in_a_minute_is_rate_limited(app, client, login, micronas, read_audit):
    login(client, "cliente")
    for number in range(5):
        assert micronas.upload(client, f"nota{number}.txt", b"hola\n").status_code == 201
    answer = micronas.upload(client, "nota6.txt", b"hola\n")
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.get_json()["error"] == "rate_limited"
    assert len(micronas.rows(app)) == 5
    assert read_audit(app)[0]["event"] == "rate_limited"
