"""MicroNAS files: list, page, download headers, delete, start-up reconcile, no public path."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

import pytest

from app import create_app
from extensions import socketio
from nas import NasConfigError, nas_status
from tests.conftest import read_audit
from tests.nas_helpers import (
    EICAR,
    PDF,
    EmitRecorder,
    log_in,
    quarantine_entries,
    row,
    rows,
    upload,
)

FILES_DATA = re.compile(r'<script type="application/json" id="files-data">(.*?)</script>', re.S)


@pytest.fixture
def scanned_app(app):
    """The app scanning each upload inside its request (built-in scanner)."""
    app.config["NAS_SCAN_INLINE"] = True
    return app


def stored(app, client, name="acta.txt", data=b"acta\n", user="cliente") -> dict:
    """Upload as ``user`` and return the file JSON (the client stays logged in as ``user``)."""
    log_in(client, user)
    answer = upload(client, name, data)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_clean_download_is_byte_identical_with_safe_headers(scanned_app, client):
    data = PDF + os.urandom(300_000)
    file = stored(scanned_app, client, "informe.pdf", data)
    assert file["status"] == "clean"
    log_in(client, "usuario")
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 200
    assert hashlib.sha256(answer.data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"informe.pdf\"; filename*=UTF-8''informe.pdf")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == "sandbox"
    downloaded = read_audit(scanned_app)[0]
    assert (downloaded["event"], downloaded["user"], downloaded["target"]) == (
        "file_downloaded", "usuario", file["id"])


def test_unicode_name_travels_in_filename_star(scanned_app, client):
    file = stored(scanned_app, client, "informe_año «final».pdf", PDF)
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"informe_ano final.pdf\"; "
        "filename*=UTF-8''informe_a%C3%B1o%20%C2%ABfinal%C2%BB.pdf"
    )


def test_pending_file_is_not_served(app, client):
    file = stored(app, client)
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "pending"


def test_infected_file_is_never_served(scanned_app, client):
    file = stored(scanned_app, client, "eicar.txt", EICAR)
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 403
    assert answer.get_json() == {"error": "infected",
                                 "message": "Archivo bloqueado: contiene Eicar-Test-Signature."}
    assert EICAR not in answer.data


@pytest.mark.parametrize("file_id", ["0" * 32, "nope", "..%2F..%2Fetc%2Fpasswd"])
def test_unknown_file_is_not_found(client, file_id):
    log_in(client, "usuario")
    answer = client.get(f"/api/files/{file_id}/download")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "not_found"


def test_eleventh_download_in_a_minute_is_rate_limited(scanned_app, client):
    file = stored(scanned_app, client)
    for _ in range(10):
        assert client.get(f"/api/files/{file['id']}/download").status_code == 200
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0


@pytest.mark.parametrize("user", ["cliente", "usuario"])
def test_only_administrators_delete(app, client, user):
    file = stored(app, client)
    log_in(client, user)
    assert client.delete(f"/api/files/{file['id']}").status_code == 403
    assert quarantine_entries(app) == [file["id"]] and row(app, file["id"]) is not None


def test_admin_delete_removes_file_and_row(app, client, monkeypatch):
    events = EmitRecorder()
    monkeypatch.setattr(socketio, "emit", events)
    file = stored(app, client, user="admin")
    answer = client.delete(f"/api/files/{file['id']}")
    assert answer.status_code == 204
    assert quarantine_entries(app) == [] and rows(app) == []
    assert events.of("file_deleted") == [({"id": file["id"]}, "lobby")]
    deleted = read_audit(app)[0]
    assert (deleted["event"], deleted["target"]) == ("file_deleted", file["id"])
    assert client.delete(f"/api/files/{file['id']}").status_code == 404


def test_fourth_delete_in_a_minute_is_rate_limited(client):
    log_in(client, "admin")
    for _ in range(3):
        assert client.delete(f"/api/files/{'0' * 32}").status_code == 404
    assert client.delete(f"/api/files/{'0' * 32}").status_code == 429


def test_list_shows_every_file_with_its_provenance(scanned_app, client):
    clean = stored(scanned_app, client, "acta.txt", b"acta\n")
    infected = stored(scanned_app, client, "eicar.txt", EICAR)
    log_in(client, "usuario")
    listed = client.get("/api/files").get_json()
    assert [f["id"] for f in listed] == [infected["id"], clean["id"]]
    keys = {"id", "name", "size", "mime", "sha256", "uploaded_by", "uploaded_at", "status",
            "signature", "scan_engine", "scan_version", "scanned_at", "missing"}
    assert set(listed[0]) == keys
    assert listed[1]["scan_engine"] == "builtin"
    assert listed[1]["scan_version"].startswith("builtin-") and listed[1]["scanned_at"]
    only = client.get("/api/files?status=infected").get_json()
    assert [f["id"] for f in only] == [infected["id"]]
    assert client.get("/api/files?status=raro").status_code == 400


def test_list_needs_a_login(client):
    assert client.get("/api/files").status_code == 401


@pytest.mark.parametrize("user, upload_control, delete_control", [
    ("usuario", False, False), ("cliente", True, False), ("admin", True, True),
])
def test_files_page_shows_controls_by_role(scanned_app, client, user, upload_control,
                                           delete_control):
    stored(scanned_app, client)
    log_in(client, user)
    page = client.get("/files").get_data(as_text=True)
    assert ('id="upload-input"' in page) is upload_control
    assert f'data-can-delete="{"true" if delete_control else "false"}"' in page
    assert 'href="/files"' in page
    (file,) = json.loads(FILES_DATA.search(page).group(1))
    assert (file["name"], file["status"], file["scan_engine"]) == ("acta.txt", "clean", "builtin")


def test_files_page_data_block_keeps_names_exact_and_inert(scanned_app, client):
    name = "Tom & Jerry's «acta».txt"
    stored(scanned_app, client, name, b"x\n")
    page = client.get("/files").get_data(as_text=True)
    block = FILES_DATA.search(page).group(1)
    assert "&" not in block and "'" not in block  # escaped as \u0026 and \u0027
    assert json.loads(block)[0]["name"] == name


def test_quarantine_is_not_reachable_by_any_path(scanned_app, client):
    file = stored(scanned_app, client, "secreto.txt", b"secreto del quarantine\n")
    base = os.path.basename(scanned_app.config["QUARANTINE_DIR"])
    for path in (f"/static/{file['id']}", f"/static/../{base}/{file['id']}",
                 f"/static/%2e%2e/{base}/{file['id']}", f"/{base}/{file['id']}",
                 f"/cuarentena/{file['id']}", f"/{file['id']}"):
        answer = client.get(path)
        assert b"secreto del quarantine" not in answer.data, path
        assert answer.status_code == 404, path


def test_quarantine_inside_static_is_refused(monkeypatch, app):
    monkeypatch.setenv("QUARANTINE_DIR", os.path.join(app.static_folder, "q"))
    with pytest.raises(NasConfigError):
        create_app("testing")


def test_start_up_reconcile_cleans_leftovers_and_flags_vanished_files(app, client, tmp_path):
    kept = stored(app, client, "guardado.txt", b"uno\n")
    vanished = stored(app, client, "perdido.txt", b"dos\n")
    quarantine = app.config["QUARANTINE_DIR"]
    os.remove(os.path.join(quarantine, vanished["id"]))
    old = time.time() - 2 * 3600
    for name in ("a" * 32 + ".part", "b" * 32, "c" * 32 + ".part"):
        with open(os.path.join(quarantine, name), "wb") as handle:
            handle.write(b"resto")
        if not name.startswith("c"):
            os.utime(os.path.join(quarantine, name), (old, old))
    restarted = create_app("testing")
    try:
        assert quarantine_entries(restarted) == sorted([kept["id"], "c" * 32 + ".part"])
        assert row(restarted, vanished["id"]).missing is True
        assert row(restarted, kept["id"]).missing is False
    finally:
        restarted.extensions["audit"].close()
    answer = client.get(f"/api/files/{vanished['id']}/download")
    assert (answer.status_code, answer.get_json()["error"]) == (404, "missing")


def test_nas_status_counts_files_and_names_the_scanner(scanned_app, client):
    stored(scanned_app, client, "acta.txt", b"acta\n")
    stored(scanned_app, client, "eicar.txt", EICAR)
    status = nas_status(scanned_app)
    assert status["counts"] == {"pending": 0, "clean": 1, "infected": 1}
    assert status["scanner"]["engine"] == "builtin"
    assert status["scanner"]["version"].startswith("builtin-")
