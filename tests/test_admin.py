"""The admin panel: who may use it, account management, the audit trail API and server status."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime

import pytest

from admin.audit_query import MAX_LIMIT

GOOD_PASSWORD = "caballo-bateria-grapa"
ADMIN_ROUTES = [
    ("GET", "/admin"),
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users"),
    ("PATCH", "/api/admin/users/usuario"),
    ("POST", "/api/admin/users/usuario/unlock"),
    ("GET", "/api/admin/audit"),
    ("GET", "/api/admin/audit.csv"),
    ("GET", "/api/admin/status"),
]
API_ROUTES = [route for route in ADMIN_ROUTES if route[1].startswith("/api/")]


@pytest.fixture
def admin(client, login):
    """The test client, logged in as the demo administrator."""
    login(client, "admin")
    return client


def users_by_name(client) -> dict[str, dict]:
    return {user["username"]: user for user in client.get("/api/admin/users").get_json()}


def test_every_admin_route_is_in_the_access_table(app):
    rules = {
        (method, re.sub(r"<[^>]+>", "usuario", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(ADMIN_ROUTES)


@pytest.mark.parametrize("role", ["usuario", "cliente"])
@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_non_administrators_get_403_and_it_is_audited(app, login, read_audit, client, role,
                                                      method, path):
    login(client, role)
    answer = client.open(path, method=method, json={})
    assert answer.status_code == 403
    denied = [row for row in read_audit(app) if row["event"] == "access_denied"]
    assert denied and denied[0]["target"] == path and denied[0]["user"] == role


@pytest.mark.parametrize("method,path", API_ROUTES)
def test_anonymous_api_calls_get_401_json(client, method, path):
    answer = client.open(path, method=method, json={})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"


def test_anonymous_panel_visit_redirects_to_login(client):
    answer = client.get("/admin")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/admin")


def test_panel_is_spanish_with_no_inline_script_style_or_handler(admin):
    page = admin.get("/admin").get_data(as_text=True)
    assert '<html lang="es">' in page and "Administración" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\sstyle=|\son[a-z]+=", page)


def test_created_user_can_log_in(app, admin, login):
    answer = admin.post(
        "/api/admin/users", json={"username": "maria", "password": GOOD_PASSWORD, "role": "cliente"}
    )
    assert answer.status_code == 201
    assert answer.get_json() == {"username": "maria", "role": "cliente", "active": True}
    maria = app.test_client()
    assert login(maria, "maria", GOOD_PASSWORD).status_code == 302
    assert maria.get("/").status_code == 200


@pytest.mark.parametrize("name", ["cliente", "CLIENTE"])
def test_taken_username_is_refused_with_409(admin, name):
    body = {"username": name, "password": GOOD_PASSWORD, "role": "usuario"}
    answer = admin.post("/api/admin/users", json=body)
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "exists"


@pytest.mark.parametrize(
    "password,reason",
    [("corta", "10 caracteres"), ("xx-maria-xx-1", "nombre de usuario"), ("password123", "común")],
)
def test_weak_password_is_refused_with_the_reason(admin, password, reason):
    body = {"username": "maria", "password": password, "role": "usuario"}
    answer = admin.post("/api/admin/users", json=body)
    assert answer.status_code == 400
    assert reason in answer.get_json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "maria", "password": GOOD_PASSWORD, "role": "root"},
        {"username": "<b>x</b>", "password": GOOD_PASSWORD, "role": "usuario"},
        {"username": "ab", "password": GOOD_PASSWORD, "role": "usuario"},
        {"username": "maria", "password": GOOD_PASSWORD, "role": "usuario", "admin": True},
        ["maria", GOOD_PASSWORD, "usuario"],
    ],
)
def test_bad_role_username_or_body_is_refused_with_400(admin, body):
    answer = admin.post("/api/admin/users", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["message"]


def test_promoting_usuario_to_cliente_shows_in_the_list(admin):
    answer = admin.patch("/api/admin/users/usuario", json={"role": "cliente"})
    assert answer.status_code == 200 and answer.get_json()["role"] == "cliente"
    assert users_by_name(admin)["usuario"]["role"] == "cliente"


def test_promoted_usuario_may_upload(app, admin, login, micronas):
    admin.patch("/api/admin/users/usuario", json={"role": "cliente"})
    user = app.test_client()
    login(user, "usuario")
    answer = micronas.upload(user, "hola.txt", b"hola\n")
    assert answer.status_code == 201


def test_disabled_user_cannot_log_in(app, admin, login):
    assert admin.patch("/api/admin/users/usuario", json={"active": False}).status_code == 200
    answer = login(app.test_client(), "usuario", expect=None)
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "change", [{"active": False}, {"role": "cliente"}, {"password": GOOD_PASSWORD}]
)
def test_account_change_sends_the_users_open_session_to_login(app, admin, login, change):
    user = app.test_client()
    login(user, "usuario")
    assert user.get("/").status_code == 200
    admin.patch("/api/admin/users/usuario", json=change)
    answer = user.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_reset_password_lets_the_new_one_in(app, admin, login):
    admin.patch("/api/admin/users/usuario", json={"password": GOOD_PASSWORD})
    user = app.test_client()
    assert login(user, "usuario", GOOD_PASSWORD).status_code == 302
    assert user.get("/").status_code == 200


def test_update_of_unknown_user_is_404(admin):
    assert admin.patch("/api/admin/users/nadie", json={"active": False}).status_code == 404


def test_update_without_csrf_token_is_refused_and_changes_nothing(admin):
    answer = admin.patch("/api/admin/users/usuario", json={"active": False}, csrf=False)
    assert answer.status_code == 400
    assert users_by_name(admin)["usuario"]["active"] is True


def test_unlock_after_lockout_lets_the_right_password_in(app, admin, login):
    other = app.test_client()
    for _ in range(5):
        login(other, "cliente", "wrong-password", expect=401)
    assert login(other, "cliente", expect=None).status_code == 429
    answer = admin.post("/api/admin/users/cliente/unlock")
    assert answer.status_code == 200 and answer.get_json()["locked_until"] is None
    assert login(other, "cliente", expect=None).status_code == 302


@pytest.mark.parametrize("change", [{"active": False}, {"role": "usuario"}])
def test_last_administrator_cannot_be_disabled_or_demoted(admin, change):
    answer = admin.patch("/api/admin/users/admin", json=change)
    assert answer.status_code == 409
    assert "último administrador" in answer.get_json()["message"]


def test_administrator_can_be_demoted_once_a_second_exists(admin):
    admin.patch("/api/admin/users/cliente", json={"role": "administrator"})
    answer = admin.patch("/api/admin/users/admin", json={"role": "usuario"})
    assert answer.status_code == 200


def test_account_actions_are_audited_never_with_the_password(app, admin, read_audit):
    body = {"username": "maria", "password": GOOD_PASSWORD, "role": "usuario"}
    admin.post("/api/admin/users", json=body)
    admin.patch("/api/admin/users/maria", json={"role": "cliente", "password": "otra-clave-larga"})
    admin.post("/api/admin/users/maria/unlock")
    rows = [r for r in read_audit(app) if r["target"] == "maria"]
    assert [(r["event"], r["detail"]) for r in rows] == [
        ("user_unlocked", ""),
        ("user_updated", "role=cliente,password"),
        ("user_created", "role=usuario"),
    ]
    trail = " ".join(value for row in read_audit(app) for value in row.values())
    assert "otra-clave" not in trail and GOOD_PASSWORD not in trail


def test_audit_api_filters_by_event_and_user_newest_first(app, admin, login):
    for name in ("nadie", "otro", "nadie"):
        login(app.test_client(), name, "x", expect=401)
    rows = admin.get("/api/admin/audit?event=login_failed&user=nadie").get_json()
    assert len(rows) == 2 and {r["user"] for r in rows} == {"nadie"}
    assert rows[0]["ts"] > rows[1]["ts"]


def test_audit_api_filters_by_since(app, admin, login):
    login(app.test_client(), "antes", "x", expect=401)
    time.sleep(0.01)
    boundary = datetime.now(UTC).isoformat()
    login(app.test_client(), "despues", "x", expect=401)
    rows = admin.get("/api/admin/audit", query_string={"since": boundary}).get_json()
    users = {r["user"] for r in rows}
    assert "despues" in users and "antes" not in users


def test_audit_api_pages_with_limit_and_offset(app, admin, login):
    for index in range(5):
        login(app.test_client(), f"nadie{index}", "x", expect=401)
    query = "/api/admin/audit?event=login_failed&limit=2&offset={}"
    pages = [[r["user"] for r in admin.get(query.format(o)).get_json()] for o in (0, 2, 4)]
    assert pages == [["nadie4", "nadie3"], ["nadie2", "nadie1"], ["nadie0"]]


def test_audit_api_caps_the_page_size(app, admin):
    for index in range(MAX_LIMIT + 20):
        app.extensions["audit"].log("room_joined", user="x", target=f"r{index}")
    assert len(admin.get("/api/admin/audit?limit=100000").get_json()) == MAX_LIMIT


@pytest.mark.parametrize("query", ["since=ayer", "until=2024-13-01", "limit=-1", "offset=dos"])
def test_audit_api_refuses_malformed_filters_with_400(admin, query):
    answer = admin.get(f"/api/admin/audit?{query}")
    assert answer.status_code == 400
    assert answer.get_json()["message"]


def test_audit_csv_export_is_an_attachment_with_formulas_neutralised(app, admin, login):
    login(app.test_client(), '=HYPERLINK("http://x","y")', "x", expect=401)
    answer = admin.get("/api/admin/audit.csv?event=login_failed")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment")
    text = answer.get_data(as_text=True)
    assert text.startswith("ts,event,user,ip,target,outcome,detail")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and ',"=HYPERLINK' not in text


def test_status_shows_who_is_online_rooms_and_files_but_never_text(admin, users):
    usuario = users.connect("usuario")
    room = {"code": "sala1", "password": "clave-de-sala", "persistent": True}
    assert usuario.emit("create_room", room, callback=True)["ok"]
    assert usuario.emit("send_message", {"room": "sala1", "text": "texto-secreto"},
                        callback=True)["ok"]
    answer = admin.get("/api/admin/status")
    status = answer.get_json()
    assert status["chat"] == {
        "online": ["usuario"],
        "rooms": [{"room": "sala1", "members": 1, "persistent": True}],
    }
    assert "texto-secreto" not in answer.get_data(as_text=True)
    assert status["nas"]["counts"] == {"pending": 0, "clean": 0, "infected": 0}
    assert status["nas"]["scanner"]["engine"] == "builtin"
    assert status["database"] == "sqlite" and status["redis"] is False
    assert status["version"] == "0.1.0" and status["uptime_seconds"] >= 0
    online = {name: user["online"] for name, user in users_by_name(admin).items()}
    assert online == {"admin": False, "cliente": False, "usuario": True}


def test_disable_closes_the_users_live_socket_within_two_seconds(live_server):
    import socketio

    admin = live_server.session("admin")
    user = live_server.session("usuario")
    closed = threading.Event()
    socket = socketio.Client(reconnection=False)
    socket.on("disconnect", lambda *_: closed.set())
    cookie = "; ".join(f"{c.name}={c.value}" for c in user.cookies)
    socket.connect(live_server.url, headers={"Cookie": cookie}, wait_timeout=5)
    token = live_server.csrf_token(admin, "/admin")
    try:
        answer = admin.patch(
            f"{live_server.url}/api/admin/users/usuario",
            json={"active": False},
            headers={"X-CSRFToken": token},
            timeout=10,
        )
        assert answer.status_code == 200
        assert closed.wait(2), "the disabled user's socket stayed open"
    finally:
        socket.disconnect()


def test_every_role_and_audit_event_has_a_spanish_label():
    from logging_.events import AUDIT_EVENTS
    from security.labels import EVENT_LABELS, ROLE_LABELS
    from security.models import ROLES

    assert set(ROLE_LABELS) == set(ROLES) and set(EVENT_LABELS) == set(AUDIT_EVENTS)
    assert all(label != code for code, label in {**ROLE_LABELS, **EVENT_LABELS}.items())


def test_panel_names_roles_and_events_from_the_one_mapping(admin):
    from html import unescape

    from security.labels import LABELS

    page = admin.get("/admin").get_data(as_text=True)
    carried = re.search(r"data-labels='([^']*)'", page).group(1)
    assert json.loads(unescape(carried)) == LABELS
    assert '<option value="cliente">Cliente</option>' in page
    assert '<option value="login_failed">Inicio de sesión fallido</option>' in page
    assert '<span class="role role-administrator">Administrador</span>' in page
