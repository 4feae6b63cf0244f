"""MicroNAS keeps within UPLOAD_QUOTA_MB per account and MIN_FREE_DISK_MB on the disk: 507."""

from __future__ import annotations

import errno
import threading
from concurrent.futures import ThreadPoolExecutor

KIB = 1024


def test_an_upload_past_the_quota_is_refused_and_leaves_nothing(app, client, login, micronas):
    app.config["UPLOAD_QUOTA_MB"] = 1
    first = micronas.store(client, "uno.txt", b"a" * 600 * KIB)
    answer = micronas.upload(client, "dos.txt", b"b" * 600 * KIB)
    assert answer.status_code == 507
    assert answer.get_json()["error"] == "quota" and "cuota de 1 MB" in answer.get_json()["message"]
    assert micronas.quarantine(app) == [first["id"]]
    assert [row.id for row in micronas.rows(app)] == [first["id"]]


def test_uploads_at_the_same_instant_cannot_add_up_past_the_quota(app, login, micronas):
    app.config["UPLOAD_QUOTA_MB"] = 1
    clients = [app.test_client() for _ in range(4)]
    for client in clients:
        login(client, "cliente")
    start = threading.Barrier(len(clients))

    def upload(numbered):
        number, client = numbered
        start.wait()
        return micronas.upload(client, f"parte{number}.txt", b"x" * 400 * KIB).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = sorted(pool.map(upload, enumerate(clients)))
    assert answers == [201, 201, 507, 507]
    assert len(micronas.quarantine(app)) == 2 and len(micronas.rows(app)) == 2


def test_a_nearly_full_disk_refuses_uploads_before_storing_anything(app, client, login,
                                                                    micronas):
    app.config["MIN_FREE_DISK_MB"] = 10**9
    login(client, "cliente")
    answer = micronas.upload(client, "acta.txt", b"acta\n")
    assert (answer.status_code, answer.get_json()["error"]) == (507, "disk_full")
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []


def test_a_disk_that_fills_mid_upload_answers_507_and_keeps_no_half(app, client, login,
                                                                    micronas, monkeypatch):
    import nas.quarantine

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nas.quarantine, "_copy_limited", full)
    login(client, "cliente")
    answer = micronas.upload(client, "acta.txt", b"acta\n")
    assert (answer.status_code, answer.get_json()["error"]) == (507, "disk_full")
    assert micronas.quarantine(app) == [] and micronas.rows(app) == []
    assert client.get("/").status_code == 200  # the rest of PiChat keeps working


def test_the_admin_list_shows_what_each_account_keeps(client, login, micronas):
    micronas.store(client, "uno.txt", b"a" * 1000, user="cliente")
    micronas.store(client, "dos.txt", b"b" * 24, user="admin")
    users = {user["username"]: user for user in client.get("/api/admin/users").get_json()}
    assert (users["cliente"]["storage_bytes"], users["admin"]["storage_bytes"]) == (1000, 24)
    assert users["usuario"]["storage_bytes"] == 0
