"""What the routes ask of MicroNAS: receive an upload, list, serve, delete, count."""

from __future__ import annotations

import os

from flask import current_app
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from extensions import db
from logging_ import audit
from nas import NasError, notify
from nas.models import INFECTED, PENDING, STATUSES, StoredFile
from nas.multipart import FilePart
from nas.quarantine import EmptyUpload, StoredBlob, UploadTooLarge
from nas.scanning import scan_file
from nas.sniff import TypeRejected, check_type
from nas.state import nas_state
from sanitization.filenames import clean_display_filename


def receive_upload(part: FilePart) -> dict[str, object]:
    """Store, type-check, record and queue (or scan) an upload; return its answer JSON."""
    name = clean_display_filename(part.filename)
    blob = _store(part)
    state = nas_state()
    try:
        mime = check_type(blob.head, name, state.allowed)
    except TypeRejected as exc:
        state.quarantine.discard(blob)
        raise NasError(415, "unsupported_type", exc.message) from exc
    record = _commit(blob, name, mime)
    audit("file_uploaded", target=record.id, detail=f"{name} ({record.size} B, {mime})")
    notify.file_added(record)
    if current_app.config.get("NAS_SCAN_INLINE"):
        scan_file(record.id)
        db.session.refresh(record)
    else:
        state.worker.wake()
    return _upload_answer(record)


def list_files(status: str | None = None) -> list[StoredFile]:
    """Every file, newest first, optionally only those with ``status``."""
    if status is not None and status not in STATUSES:
        raise NasError(400, "bad_request", f"Estado desconocido: {status}.")
    query = select(StoredFile).order_by(StoredFile.uploaded_at.desc())
    if status is not None:
        query = query.where(StoredFile.status == status)
    return list(db.session.scalars(query))


def downloadable(file_id: str) -> tuple[StoredFile, str]:
    """The record and quarantine path of a clean file; refusals raise NasError."""
    record = _find(file_id)
    path = nas_state().quarantine.path_for(file_id)
    if record.missing or not os.path.exists(path):
        raise NasError(404, "missing", "El archivo ya no está en el servidor.")
    if record.status == PENDING:
        raise NasError(409, "pending", "El archivo aún se está analizando. Pruebe en un momento.")
    if record.status == INFECTED:
        audit("file_downloaded", target=file_id, outcome="refused", detail="infected")
        raise NasError(403, "infected", notify.blocked_message(record))
    audit("file_downloaded", target=file_id, detail=record.display_name)
    return record, path


def delete_file(file_id: str) -> None:
    """Delete the row, then the file (a crash between leaves an orphan that reconcile removes)."""
    record = _find(file_id)
    name = record.display_name
    db.session.delete(record)
    db.session.commit()
    nas_state().quarantine.delete(file_id)
    audit("file_deleted", target=file_id, detail=name)
    notify.file_deleted(file_id)


def status_counts() -> dict[str, int]:
    """How many files have each status."""
    rows = db.session.execute(
        select(StoredFile.status, func.count()).group_by(StoredFile.status)
    ).all()
    return {status: 0 for status in STATUSES} | {status: count for status, count in rows}


def too_large() -> NasError:
    """The refusal of an upload over MAX_UPLOAD_MB."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    return NasError(413, "too_large", f"El archivo supera el máximo de {limit_mb} MB.")


def _upload_answer(record: StoredFile) -> dict[str, object]:
    """The file JSON; for an infected file, a message that says plainly why it is blocked."""
    answer = record.to_json()
    if record.status == INFECTED:
        answer["message"] = notify.blocked_message(record)
    return answer


def _store(part: FilePart) -> StoredBlob:
    state = nas_state()
    try:
        return state.quarantine.store(part.stream, state.max_bytes)
    except (UploadTooLarge, RequestEntityTooLarge) as exc:
        raise too_large() from exc
    except EmptyUpload as exc:
        raise NasError(400, "empty_file", "El archivo está vacío.") from exc
    except ValueError as exc:
        raise NasError(400, "bad_request", "El envío del archivo no es válido.") from exc


def _commit(blob: StoredBlob, name: str, mime: str) -> StoredFile:
    """Rename the upload into place and record it; on failure neither file nor row remains."""
    quarantine = nas_state().quarantine
    record = StoredFile(
        id=blob.file_id, display_name=name, size=blob.size, mime=mime, sha256=blob.sha256,
        uploaded_by=current_user.username, status=PENDING, scan_attempts=0, missing=False,
    )
    try:
        quarantine.commit(blob)
        db.session.add(record)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        quarantine.discard(blob)
        quarantine.delete(blob.file_id)
        raise
    return record


def _find(file_id: str) -> StoredFile:
    record = db.session.get(StoredFile, file_id)
    if record is None:
        raise NasError(404, "not_found", "El archivo no existe.")
    return record
