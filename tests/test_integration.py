"""What spans chat, MicroNAS and the admin panel, wired together in app.py."""

from __future__ import annotations

from extensions import socketio
from tests.nas_helpers import EICAR, log_in, upload


def connect(app, username):
    http = app.test_client()
    log_in(http, username)
    return http, socketio.test_client(app, flask_test_client=http)


def test_administrators_get_a_live_notice_of_an_infected_upload(app):
    app.config["NAS_SCAN_INLINE"] = True
    _, admin_socket = connect(app, "admin")
    _, user_socket = connect(app, "usuario")
    cliente, _ = connect(app, "cliente")
    admin_socket.get_received(), user_socket.get_received()
    assert upload(cliente, "eicar.txt", EICAR).status_code == 201
    notices = [e["args"][0] for e in admin_socket.get_received() if e["name"] == "file_infected"]
    assert [(n["name"], n["uploaded_by"]) for n in notices] == [("eicar.txt", "cliente")]
    assert all(e["name"] != "file_infected" for e in user_socket.get_received())


def test_admin_status_shows_chat_and_files(app):
    admin, _ = connect(app, "admin")
    status = admin.get("/api/admin/status").get_json()
    assert status["chat"]["online"] == ["admin"]
    assert set(status["nas"]["counts"]) == {"pending", "clean", "infected"}
    assert status["nas"]["scanner"]["engine"] == "builtin"


def test_admin_user_list_says_who_is_online(app):
    admin, _ = connect(app, "admin")
    connect(app, "cliente")
    online = {u["username"]: u["online"] for u in admin.get("/api/admin/users").get_json()}
    assert online == {"admin": True, "cliente": True, "usuario": False}
