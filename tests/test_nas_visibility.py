"""Who sees which file in the list: blocked files only to those who can act on them, and
one stable newest-first order."""

from __future__ import annotations

import json
import re

import pytest

from extensions import db
from nas.models import StoredFile
from tests.micronas import EICAR

FILES_DATA = re.compile(r'<script type="application/json" id="files-data">(.*?)</script>', re.S)


@pytest.fixture
def scanned_app(app):
    """The app scanning each upload inside its request (built-in scanner)."""
    app.config["NAS_SCAN_INLINE"] = True
    return app


def names_listed(client, login, user: str, query: str = "") -> list[str]:
    login(client, user)
    return [file["name"] for file in client.get(f"/api/files{query}").get_json()]


@pytest.mark.parametrize("viewer,sees_blocked", [
    ("admin", True), ("cliente", True), ("usuario", False),
])
def test_a_blocked_file_is_listed_to_its_uploader_and_administrators_only(
        scanned_app, client, login, micronas, viewer, sees_blocked):
    micronas.store(client, "acta.txt", b"acta\n")
    micronas.store(client, "eicar.txt", EICAR)  # uploaded by cliente
    expected = ["eicar.txt", "acta.txt"] if sees_blocked else ["acta.txt"]
    assert names_listed(client, login, viewer) == expected
    blocked = ["eicar.txt"] if sees_blocked else []
    assert names_listed(client, login, viewer, "?status=infected") == blocked


def test_another_clients_blocked_file_is_not_listed_nor_on_the_page(
        scanned_app, app, client, login, micronas):
    micronas.store(client, "eicar.txt", EICAR)
    micronas.store(client, "acta.txt", b"acta\n")
    with app.app_context():
        db.session.execute(db.update(StoredFile).values(uploaded_by="otra"))
        db.session.commit()
    assert names_listed(client, login, "cliente") == ["acta.txt"]
    page = client.get("/files").get_data(as_text=True)
    assert [file["name"] for file in json.loads(FILES_DATA.search(page).group(1))] == ["acta.txt"]


def test_files_uploaded_in_the_same_instant_keep_one_order_on_every_load(
        scanned_app, app, client, login, micronas):
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        micronas.store(client, name, name.encode())
    with app.app_context():
        moment = db.session.scalar(db.select(StoredFile.uploaded_at).limit(1))
        db.session.execute(db.update(StoredFile).values(uploaded_at=moment))
        ids = sorted(db.session.scalars(db.select(StoredFile.id)), reverse=True)
        db.session.commit()
    listed = [file["id"] for file in client.get("/api/files").get_json()]
    assert listed == ids
