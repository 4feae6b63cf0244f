"""The files table: one row per upload, with its scan verdict and where that verdict came from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from security.clock import as_utc, utcnow

PENDING, CLEAN, INFECTED = "pending", "clean", "infected"
STATUSES = (PENDING, CLEAN, INFECTED)


def iso(moment: datetime | None) -> str | None:
    """A stored time as UTC ISO 8601, or None."""
    moment = as_utc(moment)
    return moment.isoformat() if moment else None


class StoredFile(db.Model):
    """An upload kept in quarantine as ``<QUARANTINE_DIR>/<id>``; the name is display only."""

    __tablename__ = "files"

    # uuid4 hex: unguessable, and the quarantine's own check refuses anything else as a path.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    mime: Mapped[str] = mapped_column(String(127), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(32), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, nullable=False, default=utcnow
    )
    status: Mapped[str] = mapped_column(String(16), index=True, nullable=False, default=PENDING)
    signature: Mapped[str | None] = mapped_column(String(255))
    scan_engine: Mapped[str | None] = mapped_column(String(32))
    scan_version: Mapped[str | None] = mapped_column(String(255))
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scan_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_scan_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by the start-up reconcile when the row's file has vanished from quarantine.
    missing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def status_json(self) -> dict[str, Any]:
        """The verdict and its provenance (the ``file_status`` event's payload)."""
        return {
            "id": self.id,
            "status": self.status,
            "uploaded_by": self.uploaded_by,
            "signature": self.signature,
            "scan_engine": self.scan_engine,
            "scan_version": self.scan_version,
            "scanned_at": iso(self.scanned_at),
        }

    def blocked_message(self) -> str:
        """What the uploader is told about an infected file."""
        return f"Archivo bloqueado: contiene {self.signature}."

    def infected_alert(self) -> dict[str, Any]:
        """What administrators are shown of a blocked upload."""
        return {"id": self.id, "name": self.display_name, "uploaded_by": self.uploaded_by,
                "signature": self.signature}

    def to_json(self) -> dict[str, Any]:
        """Everything the files page and the API show about the file."""
        return {
            **self.status_json(),
            "name": self.display_name,
            "size": self.size,
            "mime": self.mime,
            "sha256": self.sha256,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": iso(self.uploaded_at),
            "missing": self.missing,
        }
