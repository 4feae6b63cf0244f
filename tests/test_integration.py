"""What spans chat, MicroNAS and the admin panel, wired together in app.py."""

from __future__ import annotations

from tests.micronas import EICAR


def test_administrators_get_a_live_notice_of_an_infected_upload(app, users, micronas):
    app.config["NAS_SCAN_INLINE"] = True
    admin_socket, user_socket = users.connect("admin"), users.connect("usuario")
    cliente = users.connect("cliente").http
    admin_socket.get_received(), user_socket.get_received()
    assert micronas.upload(cliente, "eicar.txt", EICAR).status_code == 201
    notices = [e["args"][0] for e in admin_socket.get_received() if e["name"] == "file_infected"]
    assert [(n["name"], n["uploaded_by"]) for n in notices] == [("eicar.txt", "cliente")]
    assert all(e["name"] != "file_infected" for e in user_socket.get_received())


def test_admin_status_shows_chat_and_files(users):
    admin = users.connect("admin").http
    status = admin.get("/api/admin/status").get_json()
    assert status["chat"]["online"] == ["admin"]
    assert set(status["nas"]["counts"]) == {"pending", "clean", "infected"}
    assert status["nas"]["scanner"]["engine"] == "builtin"


def test_admin_user_list_says_who_is_online(users):
    admin = users.connect("admin").http
    users.connect("cliente")
    online = {u["username"]: u["online"] for u in admin.get("/api/admin/users").get_json()}
    assert online == {"admin": True, "cliente": True, "usuario": False}
