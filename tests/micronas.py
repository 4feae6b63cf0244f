"""MicroNAS as the tests see it: test files, uploads, the quarantine folder, the files rows
and the events it announces.

Tests get the actions through conftest's `micronas` and `emitted` fixtures; the constants
are plain data and may be imported.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nas.models import StoredFile

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
MIB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class MicroNas:
    """Upload through the API and look at what MicroNAS kept."""

    def __init__(self, log_in: Callable[[FlaskClient, str], object]) -> None:
        self.log_in = log_in

    @staticmethod
    def upload(client: FlaskClient, name: str, data: bytes, content_type: str = "text/plain",
               **kwargs: Any) -> Any:
        """POST one file as the multipart field ``file``; the answer."""
        return client.post(
            "/api/files",
            data={"file": (io.BytesIO(data), name, content_type)},
            content_type="multipart/form-data",
            **kwargs,
        )

    def store(self, client: FlaskClient, name: str = "acta.txt", data: bytes = b"acta\n",
              user: str = "cliente") -> dict[str, Any]:
        """Log ``client`` in as ``user``, upload, and return the stored file's JSON (a 201).

        The client stays logged in as ``user``.
        """
        self.log_in(client, user)
        answer = self.upload(client, name, data)
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()

    @staticmethod
    def quarantine(app: Flask) -> list[str]:
        """Names in the quarantine folder, leaving out files that are not uploads."""
        folder = app.config["QUARANTINE_DIR"]
        return sorted(name for name in os.listdir(folder) if not name.startswith("."))

    @staticmethod
    def rows(app: Flask) -> list[StoredFile]:
        """Every files row, detached from the session."""
        with app.app_context():
            from extensions import db

            found = list(db.session.scalars(select(StoredFile)))
            db.session.expunge_all()
            return found

    @staticmethod
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
