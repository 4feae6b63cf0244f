"""Stored files as the routes and the admin panel see them: receive, list, serve, delete, count."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection

from flask import current_app
from flask_login import current_user
from sqlalchemy import func, or_, select, update
from werkzeug.exceptions import RequestEntityTooLarge

from errors import Refusal, bad_request
from extensions import db
from logging_ import audit
from nas import signals
from nas.models import INFECTED, PENDING, STATUSES, StoredFile
from nas.multipart import FilePart
from nas.quarantine import EmptyUpload, StoredBlob, UploadTooLarge
from nas.scan_queue import queue_scan
from nas.scan_result import ScannerUnavailable
from nas.sniff import check_type
from nas.state import nas_state
from nas.storage_budget import disk_full, fits, is_disk_full, over_quota, refuse_when_full
from sanitization.filenames import clean_display_filename
from security.clock import utcnow
from security.quota import insert_if

log = logging.getLogger(__name__)


def receive_upload(part: FilePart) -> dict[str, object]:
    """Store, type-check, record and queue (or scan) an upload; return its answer JSON."""
    name = clean_display_filename(part.filename)
    refuse_when_full(current_user.username)
    blob = _store(part)
    try:
        mime = check_type(blob.head, name, nas_state().allowed)
    except Refusal:
        nas_state().quarantine.discard(blob)
        raise
    record = _commit(blob, name, mime)
    audit("file_uploaded", target=record.id, detail=f"{name} ({record.size} B, {mime})")
    added = record.to_json()
    signals.file_added.send(current_app._get_current_object(), file=added)
    queue_scan(record.id)
    if not current_app.config["NAS_SCAN_INLINE"]:
        return added  # as it was stored: the worker's verdict follows as file_status
    db.session.refresh(record)  # scanned before this answer (tests)
    return _upload_answer(record)


def list_files(status: str | None = None) -> list[StoredFile]:
    """The files the current user may see, newest first (ties by id, so the order is the
    same on every load), optionally only those with ``status``.

    A blocked file is listed to administrators, who can act on it, and to its uploader,
    who is told what happens next; to anyone else it is noise they can do nothing about.
    """
    if status is not None and status not in STATUSES:
        raise bad_request(f"Estado desconocido: {status}.")
    query = select(StoredFile).order_by(StoredFile.uploaded_at.desc(), StoredFile.id.desc())
    if status is not None:
        query = query.where(StoredFile.status == status)
    if not current_user.is_admin:
        query = query.where(or_(StoredFile.status != INFECTED,
                                StoredFile.uploaded_by == current_user.username))
    return list(db.session.scalars(query))


def downloadable(file_id: str) -> tuple[StoredFile, str]:
    """The record and quarantine path of a clean file, or a refusal that says why not."""
    record = _find(file_id)
    path = nas_state().quarantine.path_for(file_id)
    if record.missing or not os.path.exists(path):
        raise Refusal(404, "missing", "El archivo ya no está en el servidor.")
    if record.status == PENDING:
        raise Refusal(409, "pending", "El archivo aún se está analizando. Pruebe en un momento.")
    if record.status == INFECTED:
        audit("file_downloaded", target=file_id, outcome="refused", detail="infected")
        raise Refusal(403, "infected", record.blocked_message())
    audit("file_downloaded", target=file_id, detail=record.display_name)
    return record, path


def shareable(file_id: str) -> StoredFile:
    """A file that may be shared into a conversation: one that exists and is not blocked (a
    pending one may: its card follows the verdict)."""
    record = _find(file_id)
    if record.missing:
        raise Refusal(404, "not_found", "El archivo ya no está en el servidor.")
    if record.status == INFECTED:
        raise Refusal(403, "forbidden", "Ese archivo está bloqueado: no se puede compartir.")
    return record


def find_files(file_ids: Collection[str]) -> dict[str, StoredFile]:
    """The files with these ids that still exist, by id (one query)."""
    if not file_ids:
        return {}
    query = select(StoredFile).where(StoredFile.id.in_(file_ids))
    return {record.id: record for record in db.session.scalars(query)}


def delete_file(file_id: str) -> None:
    """Delete the row, then the file (a crash between leaves an orphan that reconcile removes)."""
    record = _find(file_id)
    name = record.display_name
    db.session.delete(record)
    db.session.commit()
    nas_state().quarantine.delete(file_id)
    audit("file_deleted", target=file_id, detail=name)
    signals.file_deleted.send(current_app._get_current_object(), file_id=file_id)


def status_counts() -> dict[str, int]:
    """How many files have each status."""
    rows = db.session.execute(
        select(StoredFile.status, func.count()).group_by(StoredFile.status)
    ).all()
    return {status: 0 for status in STATUSES} | {status: count for status, count in rows}


def nas_status() -> dict[str, object]:
    """File counts by status and the scanner in use, for the admin panel."""
    scanner = nas_state().scanner
    try:
        version: str | None = scanner.version()
    except ScannerUnavailable:
        version = None
    return {"counts": status_counts(), "scanner": {"engine": scanner.name, "version": version}}


def reconcile_storage() -> None:
    """Remove stale .part and orphan files; flag rows whose file vanished (and unflag returns)."""
    known = set(db.session.scalars(select(StoredFile.id)))
    report = nas_state().quarantine.reconcile(known)
    db.session.execute(
        update(StoredFile)
        .where(StoredFile.missing.is_(True), StoredFile.id.not_in(report.missing))
        .values(missing=False)
    )
    if report.missing:
        db.session.execute(
            update(StoredFile).where(StoredFile.id.in_(report.missing)).values(missing=True)
        )
        log.error("Files missing from quarantine: %s", ", ".join(sorted(report.missing)))
    db.session.commit()
    if report.removed:
        log.warning("Removed from quarantine: %s", ", ".join(report.removed))


def too_large() -> Refusal:
    """The refusal of an upload over MAX_UPLOAD_MB."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    return Refusal(413, "too_large", f"El archivo supera el máximo de {limit_mb} MB.")


def _upload_answer(record: StoredFile) -> dict[str, object]:
    """The file JSON; for an infected file, a message that says plainly why it is blocked."""
    answer = record.to_json()
    if record.status == INFECTED:
        answer["message"] = record.blocked_message()
    return answer


def _store(part: FilePart) -> StoredBlob:
    state = nas_state()
    try:
        return state.quarantine.store(part.stream, state.max_bytes)
    except (UploadTooLarge, RequestEntityTooLarge) as exc:
        raise too_large() from exc
    except EmptyUpload as exc:
        raise Refusal(400, "empty_file", "El archivo está vacío.") from exc
    except ValueError as exc:
        raise bad_request("El envío del archivo no es válido.") from exc
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full() from exc
        raise


def _commit(blob: StoredBlob, name: str, mime: str) -> StoredFile:
    """Rename the upload into place and record it within the uploader's quota; on failure
    (a refusal included) neither file nor row remains."""
    quarantine = nas_state().quarantine
    owner = current_user.username
    values = {
        "id": blob.file_id, "display_name": name, "size": blob.size, "mime": mime,
        "sha256": blob.sha256, "uploaded_by": owner, "uploaded_at": utcnow(),
        "status": PENDING, "scan_attempts": 0, "missing": False,
    }
    try:
        quarantine.commit(blob)
        if not insert_if(StoredFile.__table__, values, fits(owner, blob.size), owner):
            raise over_quota()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        quarantine.discard(blob)
        quarantine.delete(blob.file_id)
        raise
    return db.session.get(StoredFile, blob.file_id)


def _find(file_id: str) -> StoredFile:
    record = db.session.get(StoredFile, file_id)
    if record is None:
        raise Refusal(404, "not_found", "El archivo no existe.")
    return record
