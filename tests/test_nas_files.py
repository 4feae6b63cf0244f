"""MicroNAS files: list, page, download headers, delete, start-up reconcile, no public path."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

import pytest

from app import create_app
from config import ConfigError
from nas.files import nas_status
from tests.micronas import EICAR, PDF

FILES_DATA = re.compile(r'<script type="application/json" id="files-data">(.*?)</script>', re.S)


@pytest.fixture
def scanned_app(app):
    """The app scanning each upload inside its request (built-in scanner)."""
    app.config["NAS_SCAN_INLINE"] = True
    return app


def test_clean_download_is_byte_identical_with_safe_headers(scanned_app, client, login, micronas,
                                                            read_audit):
    data = PDF + os.urandom(300_000)
    file = micronas.store(client, "informe.pdf", data)
    assert file["status"] == "clean"
    login(client, "usuario")
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


def test_unicode_name_travels_in_filename_star(scanned_app, client, micronas):
    file = micronas.store(client, "informe_año «final».pdf", PDF)
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"informe_ano final.pdf\"; "
        "filename*=UTF-8''informe_a%C3%B1o%20%C2%ABfinal%C2%BB.pdf"
    )


def test_pending_file_is_not_served(app, client, micronas):
    file = micronas.store(client)
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "pending"


def test_infected_file_is_never_served(scanned_app, client, micronas):
    file = micronas.store(client, "eicar.txt", EICAR)
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 403
    assert answer.get_json() == {"error": "infected",
                                 "message": "Archivo bloqueado: contiene Eicar-Test-Signature."}
    assert EICAR not in answer.data


@pytest.mark.parametrize("file_id", ["0" * 32, "nope", "..%2F..%2Fetc%2Fpasswd"])
def test_unknown_file_is_not_found(client, file_id, login):
    login(client, "usuario")
    answer = client.get(f"/api/files/{file_id}/download")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "not_found"


def test_eleventh_download_in_a_minute_is_rate_limited(scanned_app, client, micronas):
    file = micronas.store(client)
    for _ in range(10):
        assert client.get(f"/api/files/{file['id']}/download").status_code == 200
    answer = client.get(f"/api/files/{file['id']}/download")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0


@pytest.mark.parametrize("user", ["cliente", "usuario"])
def test_only_administrators_delete(app, client, user, login, micronas):
    file = micronas.store(client)
    login(client, user)
    assert client.delete(f"/api/files/{file['id']}").status_code == 403
    assert micronas.quarantine(app) == [file["id"]] and micronas.row(app, file["id"]) is not None


def test_admin_delete_removes_file_and_row(app, client, emitted, micronas, read_audit):
    file = micronas.store(client, user="admin")
    answer = client.delete(f"/api/files/{file['id']}")
    assert answer.status_code == 204
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []
    assert emitted.of("file_deleted") == [({"id": file["id"]}, "lobby")]
    deleted = read_audit(app)[0]
    assert (deleted["event"], deleted["target"]) == ("file_deleted", file["id"])
    assert client.delete(f"/api/files/{file['id']}").status_code == 404


def test_fourth_delete_in_a_minute_is_rate_limited(client, login):
    login(client, "admin")
    for _ in range(3):
        assert client.delete(f"/api/files/{'0' * 32}").status_code == 404
    assert client.delete(f"/api/files/{'0' * 32}").status_code == 429


def test_list_shows_every_file_with_its_provenance(scanned_app, client, login, micronas):
    clean = micronas.store(client, "acta.txt", b"acta\n")
    infected = micronas.store(client, "eicar.txt", EICAR)
    login(client, "admin")
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
                                           delete_control, login, micronas):
    micronas.store(client)
    login(client, user)
    page = client.get("/files").get_data(as_text=True)
    assert ('id="upload-input"' in page) is upload_control
    assert f'data-can-delete="{"true" if delete_control else "false"}"' in page
    assert 'href="/files"' in page
    (file,) = json.loads(FILES_DATA.search(page).group(1))
    assert (file["name"], file["status"], file["scan_engine"]) == ("acta.txt", "clean", "builtin")


def test_files_page_data_block_keeps_names_exact_and_inert(scanned_app, client, micronas):
    name = "Tom & Jerry's «acta».txt"
    micronas.store(client, name, b"x\n")
    page = client.get("/files").get_data(as_text=True)
    block = FILES_DATA.search(page).group(1)
    assert "&" not in block and "'" not in block  # escaped as \u0026 and \u0027
    assert json.loads(block)[0]["name"] == name


def test_quarantine_is_not_reachable_by_any_path(scanned_app, client, micronas):
    file = micronas.store(client, "secreto.txt", b"secreto del quarantine\n")
    base = os.path.basename(scanned_app.config["QUARANTINE_DIR"])
    for path in (f"/static/{file['id']}", f"/static/../{base}/{file['id']}",
                 f"/static/%2e%2e/{base}/{file['id']}", f"/{base}/{file['id']}",
                 f"/cuarentena/{file['id']}", f"/{file['id']}"):
        answer = client.get(path)
        assert b"secreto del quarantine" not in answer.data, path
        assert answer.status_code == 404, path


def test_quarantine_inside_static_is_refused(monkeypatch, app):
    monkeypatch.setenv("QUARANTINE_DIR", os.path.join(app.static_folder, "q"))
    with pytest.raises(ConfigError, match="QUARANTINE_DIR must not be inside"):
        create_app("testing")


def test_start_up_reconcile_cleans_leftovers_and_flags_vanished_files(app, client, micronas,
                                                                      another_app):
    kept = micronas.store(client, "guardado.txt", b"uno\n")
    vanished = micronas.store(client, "perdido.txt", b"dos\n")
    quarantine = app.config["QUARANTINE_DIR"]
    os.remove(os.path.join(quarantine, vanished["id"]))
    old = time.time() - 2 * 3600
    for name in ("a" * 32 + ".part", "b" * 32, "c" * 32 + ".part"):
        with open(os.path.join(quarantine, name), "wb") as handle:
            handle.write(b"resto")
        if not name.startswith("c"):
            os.utime(os.path.join(quarantine, name), (old, old))
    restarted = another_app()
    assert micronas.quarantine(restarted) == sorted([kept["id"], "c" * 32 + ".part"])
    assert micronas.row(restarted, vanished["id"]).missing is True
    assert micronas.row(restarted, kept["id"]).missing is False
    answer = client.get(f"/api/files/{vanished['id']}/download")
    assert (answer.status_code, answer.get_json()["error"]) == (404, "missing")


def test_nas_status_counts_files_and_names_the_scanner(scanned_app, client, micronas):
    micronas.store(client, "acta.txt", b"acta\n")
    micronas.store(client, "eicar.txt", EICAR)
    with scanned_app.app_context():
        status = nas_status()
    assert status["counts"] == {"pending": 0, "clean": 1, "infected": 1}
    assert status["scanner"]["engine"] == "builtin"
    assert status["scanner"]["version"].startswith("builtin-")
