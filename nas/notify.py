"""Live updates for the files page and alerts for administrators, over Socket.IO rooms."""

from __future__ import annotations

from extensions import socketio
from logging_ import audit
from nas.models import StoredFile

# Every connected user is in the lobby (chat joins them); administrators also in "admins".
LOBBY = "lobby"
ADMINS = "admins"


def file_added(record: StoredFile) -> None:
    """Tell every page about a new upload."""
    socketio.emit("file_added", record.to_json(), to=LOBBY)


def file_status(record: StoredFile) -> None:
    """Tell every page a file's verdict or its provenance changed."""
    socketio.emit("file_status", record.status_json(), to=LOBBY)


def file_deleted(file_id: str) -> None:
    """Tell every page a file is gone."""
    socketio.emit("file_deleted", {"id": file_id}, to=LOBBY)


def file_infected(record: StoredFile) -> None:
    """Audit a blocked file and alert the administrators who are online."""
    audit(
        "file_infected",
        target=record.id,
        outcome="blocked",
        detail=f"{record.signature} ({record.scan_engine} {record.scan_version}): "
        f"{record.display_name}",
        user=record.uploaded_by,
    )
    socketio.emit(
        "file_infected",
        {
            "id": record.id,
            "name": record.display_name,
            "uploaded_by": record.uploaded_by,
            "signature": record.signature,
        },
        to=ADMINS,
    )


def blocked_message(record: StoredFile) -> str:
    """What the uploader is told about an infected file."""
    return f"Archivo bloqueado: contiene {record.signature}."
