"""Helpers shared by the MicroNAS tests: uploading, looking at quarantine and rows, events."""

from __future__ import annotations

import io
import os
from typing import Any

from flask import Flask
from sqlalchemy import select

from nas.models import StoredFile
from tests.live_server import DEMO_PASSWORDS

PASSWORDS = DEMO_PASSWORDS
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
MIB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def log_in(client: Any, username: str) -> None:
    """Log ``client`` in as one of the demo accounts."""
    answer = client.post("/login", data={"username": username, "password": PASSWORDS[username]})
    if answer.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {answer.status_code}")


def upload(client: Any, name: str, data: bytes, content_type: str = "text/plain",
           **kwargs: Any) -> Any:
    """POST one file as the multipart field ``file``."""
    return client.post(
        "/api/files",
        data={"file": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
        **kwargs,
    )


def quarantine_entries(app: Flask) -> list[str]:
    """Names in the quarantine folder, leaving out files that are not uploads."""
    return sorted(n for n in os.listdir(app.config["QUARANTINE_DIR"]) if not n.startswith("."))


def rows(app: Flask) -> list[StoredFile]:
    """Every files row, detached from the session."""
    with app.app_context():
        from extensions import db

        found = list(db.session.scalars(select(StoredFile)))
        db.session.expunge_all()
        return found


def row(app: Flask, file_id: str) -> StoredFile | None:
    """One files row by id, detached from the session."""
    with app.app_context():
        from extensions import db

        found = db.session.get(StoredFile, file_id)
        db.session.expunge_all()
        return found


class EmitRecorder:
    """Stands in for ``socketio.emit`` and keeps (event, payload, room) of each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []

    def __call__(self, event: str, data: Any = None, to: str | None = None, **_: Any) -> None:
        self.calls.append((event, data, to))

    def of(self, event: str) -> list[tuple[dict[str, Any], str | None]]:
        """Payload and room of every ``event`` sent."""
        return [(data, to) for name, data, to in self.calls if name == event]
