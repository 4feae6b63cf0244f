"""MicroNAS scanning: EICAR with both scanners, fail closed, retries, rescans, the worker."""

from __future__ import annotations

import hashlib
import shutil
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from extensions import db
from nas.builtin_scanner import DEFAULT_BLOCKLIST, BuiltinScanner
from nas.models import StoredFile
from nas.scan_queue import rescan_outdated, retry_delay, scan_pending
from security.clock import utcnow
from tests.micronas import EICAR


@pytest.fixture
def make_app(another_app):
    """Factory: a second app on the same storage, built after ``CLAMD_SOCKET=socket``."""
    made = []

    def make(socket: str | None = None, inline: bool = True):
        made.append(another_app(**({"CLAMD_SOCKET": socket} if socket else {})))
        made[-1].config["NAS_SCAN_INLINE"] = inline
        return made[-1]

    yield make
    for other in made:
        other.extensions["nas"].worker.stop()


def in_app(app, scan, **options):
    """Run one scan function of the queue inside the app, as the worker does."""
    with app.app_context():
        return scan(**options)


@pytest.fixture
def wait_for(micronas):
    """``wait_for(app, file_id, done)`` polls the row until ``done(row)`` (for the background
    worker's tests only) and returns it."""

    def poll(app, file_id: str, done, seconds: float = 10.0) -> StoredFile:
        deadline = time.monotonic() + seconds
        while not done(found := micronas.row(app, file_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    return poll


@pytest.mark.parametrize("engine", ["builtin", "clamd"])
def test_eicar_is_blocked_and_the_uploader_told_why(request, make_app, emitted, engine, micronas,
                                                    read_audit):
    socket = request.getfixturevalue("clamd").socket if engine == "clamd" else None
    app = make_app(socket)
    body = micronas.store(app.test_client(), "eicar.txt", EICAR)
    assert (body["status"], body["scan_engine"]) == ("infected", engine)
    signature = body["signature"]
    assert signature.startswith("Eicar-Test-Signature" if engine == "builtin" else
                                "PiChat.Test.EICAR")
    assert body["message"] == f"Archivo bloqueado: contiene {signature}."
    assert micronas.quarantine(app) == [body["id"]]  # kept for the administrators to review
    infected = read_audit(app)[0]
    assert (infected["event"], infected["user"], infected["target"]) == (
        "file_infected", "cliente", body["id"])
    assert emitted.of("file_infected") == [({"id": body["id"], "name": "eicar.txt",
                                            "uploaded_by": "cliente", "signature": signature},
                                           "admins")]
    # What a blocked file holds is news only to administrators and its uploader.
    [(bare, everyone), (status, audience)] = emitted.of("file_status")
    assert (bare, everyone) == ({"id": body["id"], "status": "infected"}, "lobby")
    assert status["signature"] == signature and audience == ["admins", "user:cliente"]


@pytest.mark.parametrize("engine", ["builtin", "clamd"])
def test_clean_file_records_engine_version_and_time(request, make_app, emitted, engine, micronas):
    socket = request.getfixturevalue("clamd").socket if engine == "clamd" else None
    app = make_app(socket)
    before = utcnow()
    body = micronas.store(app.test_client(), "acta.txt", b"acta de la reunion\n")
    assert (body["status"], body["signature"], body["scan_engine"]) == ("clean", None, engine)
    assert body["scan_version"].startswith("builtin-" if engine == "builtin" else "ClamAV ")
    assert body["scanned_at"] >= before.isoformat()
    assert emitted.of("file_status") == [
        ({key: body[key] for key in ("id", "status", "uploaded_by", "signature", "scan_engine",
                                     "scan_version", "scanned_at")}, "lobby")]


def test_clamd_down_keeps_file_pending_until_a_retry_finds_it_back(make_app, clamd, login,
                                                                   micronas):
    app = make_app(clamd.socket)
    clamd.stop()
    body = micronas.store(app.test_client(), "acta.txt", b"acta\n")
    assert body["status"] == "pending"
    pending = micronas.row(app, body["id"])
    assert pending.scan_attempts == 1
    client = app.test_client()
    login(client, "usuario")
    assert client.get(f"/api/files/{body['id']}/download").status_code == 409
    clamd.start()
    assert in_app(app, scan_pending) == 0  # not due yet: retries wait SCAN_RETRY_SECONDS
    assert in_app(app, scan_pending, now=utcnow() + timedelta(seconds=31)) == 1
    scanned = micronas.row(app, body["id"])
    assert (scanned.status, scanned.scan_engine) == ("clean", "clamd")
    assert client.get(f"/api/files/{body['id']}/download").status_code == 200


def test_clamd_limits_alert_blocks_the_file_instead_of_retrying(make_app, fake_clamd, micronas):
    fake = fake_clamd(b"stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND\0")
    app = make_app(fake.socket)
    body = micronas.store(app.test_client(), "grande.txt", b"a" * 100_000)
    assert (body["status"], body["signature"]) == (
        "infected", "Heuristics.Limits.Exceeded.MaxFileSize")
    assert micronas.row(app, body["id"]).next_scan_at is None


def test_worker_rescans_by_itself_when_clamd_comes_back(make_app, clamd, monkeypatch, micronas,
                                                        wait_for):
    monkeypatch.setenv("SCAN_RETRY_SECONDS", "1")
    app = make_app(clamd.socket, inline=False)
    clamd.stop()
    worker = app.extensions["nas"].worker
    worker.start()
    body = micronas.store(app.test_client(), "acta.txt", b"acta\n")
    failed = wait_for(app, body["id"], lambda found: found.scan_attempts >= 1)
    assert (failed.status, failed.scan_attempts) == ("pending", 1)
    clamd.start()
    assert wait_for(app, body["id"], lambda found: found.status != "pending").status == "clean"
    assert worker.stop() is True


def test_worker_scans_new_uploads_and_stops_cleanly(make_app, micronas, wait_for):
    app = make_app(inline=False)
    worker = app.extensions["nas"].worker
    worker.start()
    body = micronas.store(app.test_client(), "eicar.txt", EICAR)
    assert body["status"] == "pending"
    assert wait_for(app, body["id"], lambda found: found.status != "pending").status == "infected"
    assert worker.stop() is True


def test_retry_waits_double_each_time_up_to_eight_periods(app):
    with app.app_context():
        assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [
            30, 60, 120, 240, 240, 240]


def test_admin_rescan_queues_every_pending_file_now(app, client, login, micronas):
    login(client, "cliente")
    file_id = micronas.upload(client, "acta.txt", b"acta\n").get_json()["id"]
    with app.app_context():
        db.session.execute(update(StoredFile).values(next_scan_at=utcnow() + timedelta(hours=1)))
        db.session.commit()
    assert in_app(app, scan_pending) == 0
    assert client.post("/api/files/rescan").status_code == 403
    login(client, "admin")
    answer = client.post("/api/files/rescan")
    assert (answer.status_code, answer.get_json()) == (202, {"queued": 1})
    assert in_app(app, scan_pending) == 1
    assert micronas.row(app, file_id).status == "clean"


@pytest.fixture
def blocklist(app, tmp_path):
    """The app's built-in scanner reading a block list the test may edit."""
    path = tmp_path / "blocklist.txt"
    shutil.copy(DEFAULT_BLOCKLIST, path)
    app.extensions["nas"].scanner = BuiltinScanner(str(path))
    app.config["NAS_SCAN_INLINE"] = True
    return path


def test_signature_update_blocks_a_recent_file_but_not_an_old_one(app, client, blocklist, emitted,
                                                                  login, micronas, read_audit):
    data = b"informe que hoy se sabe malicioso\n"
    login(client, "cliente")
    recent = micronas.upload(client, "reciente.txt", data).get_json()
    old = micronas.upload(client, "antiguo.txt", data).get_json()
    other = micronas.upload(client, "otro.txt", b"inofensivo\n").get_json()
    with app.app_context():
        db.session.execute(update(StoredFile).where(StoredFile.id == old["id"])
                           .values(uploaded_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    assert in_app(app, rescan_outdated) == 0  # same version: nothing to do
    digest = hashlib.sha256(data).hexdigest()
    blocklist.write_text(blocklist.read_text() + f"{digest}\n")
    assert in_app(app, rescan_outdated) == 2
    blocked, kept, untouched = (micronas.row(app, f["id"]) for f in (recent, old, other))
    assert (blocked.status, blocked.signature) == ("infected", f"PiChat.Blocklist.{digest[:12]}")
    assert blocked.scan_version != recent["scan_version"]
    assert (kept.status, kept.scan_version) == ("clean", old["scan_version"])
    assert (untouched.status, untouched.scan_version) == ("clean", blocked.scan_version)
    assert [data["id"] for data, _ in emitted.of("file_infected")] == [recent["id"]]
    assert read_audit(app)[0]["event"] == "file_infected"


def test_rescans_go_in_batches_so_new_uploads_wait_little(app, client, blocklist, login, micronas):
    login(client, "cliente")
    for number in range(3):
        answer = micronas.upload(client, f"acta{number}.txt", f"acta {number}\n".encode())
        assert answer.status_code == 201
    blocklist.write_text(blocklist.read_text() + "# nueva version\n")
    assert in_app(app, rescan_outdated, limit=2) == 2
    assert in_app(app, rescan_outdated, limit=2) == 1
    assert in_app(app, rescan_outdated, limit=2) == 0


@pytest.mark.parametrize("engine", ["builtin", "clamd"])
def test_only_the_in_process_scanner_runs_off_the_event_loop(request, make_app, monkeypatch,
                                                             engine, micronas):
    """Hashing a 16 MiB file would freeze every socket; clamd's socket I/O is already green."""
    import nas.scan_queue

    offloaded = []

    def spy(func, *args):
        offloaded.append(func.__self__.name)
        return func(*args)

    monkeypatch.setattr(nas.scan_queue, "run_off_loop", spy)
    socket = request.getfixturevalue("clamd").socket if engine == "clamd" else None
    body = micronas.store(make_app(socket).test_client(), "notas.txt", b"hola\n")
    assert body["status"] == "clean"
    assert offloaded == (["builtin"] if engine == "builtin" else [])
