"""Chat over Socket.IO in-process: connect auth, rooms, lobby, direct messages, limits, traces."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from chat.acks import SESSION_RECHECK_SECONDS
from chat.status import chat_status
from extensions import db, socketio
from security.accounts import find_user

DEMO_USERS = ("admin", "cliente", "usuario")


@pytest.fixture
def clock(app: Flask, fake_clock):
    """Freeze the chat's throttles; tests advance time explicitly."""
    app.extensions["chat"].clock = fake_clock
    return fake_clock


def events(sock: SocketIOTestClient, name: str) -> list[dict]:
    """Drain the client's queue and return the payloads of the events called `name`."""
    received = list(sock.queue)
    sock.queue.clear()
    # The test client unwraps the argument list of events named "message".
    return [e["args"] if e["name"] == "message" else e["args"][0]
            for e in received if e["name"] == name]


def ack(sock: SocketIOTestClient, event: str, payload: object) -> dict:
    """Emit an event and return the server's ack."""
    return sock.emit(event, payload, callback=True)


def make_room(sock: SocketIOTestClient, code: str = "sala1", persistent: bool = False) -> dict:
    """Create a room with password "secreta" and check that it worked."""
    payload = {"code": code, "password": "secreta", "persistent": persistent}
    answer = ack(sock, "create_room", payload)
    assert answer["ok"], answer
    return answer


def join(sock: SocketIOTestClient, code: str = "sala1", password: str = "secreta") -> dict:
    """Ask to join a room; the ack."""
    return ack(sock, "join_room", {"code": code, "password": password})


def drain(*socks: SocketIOTestClient) -> None:
    """Forget everything the clients received so far."""
    for sock in socks:
        sock.queue.clear()


@pytest.fixture
def audit_rows(app: Flask, read_audit):
    """``audit_rows(event)``: the app's audit rows of one event, newest first."""
    return lambda event: [row for row in read_audit(app) if row["event"] == event]


# --- connecting -----------------------------------------------------------------------


def test_unauthenticated_connect_is_refused_and_audited(app, audit_rows):
    sock = socketio.test_client(app)
    assert not sock.is_connected()
    assert audit_rows("socket_refused")[0]["outcome"] == "unauthenticated"


def test_everyone_hears_who_comes_online(users):
    admin = users.connect("admin")
    assert events(admin, "presence") == [{"online": ["admin"]}]
    users.connect("cliente")
    assert events(admin, "presence") == [{"online": ["admin", "cliente"]}]


def test_disconnect_takes_the_user_offline_for_everyone(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    drain(admin)
    cliente.disconnect()
    assert events(admin, "presence") == [{"online": ["admin"]}]


# --- lobby, rooms and direct messages --------------------------------------------------


def test_lobby_message_reaches_every_connected_user(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    answer = ack(admin, "send_message", {"room": "lobby", "text": "  hola a todos "})
    [message] = events(cliente, "message")
    assert answer == {"ok": True, "id": message["id"]} and len(message["id"]) == 32
    assert (message["room"], message["user"], message["text"]) == ("lobby", "admin", "hola a todos")
    assert datetime.fromisoformat(message["ts"]).utcoffset() == timedelta(0)


def test_room_message_reaches_only_members(users):
    admin, cliente, usuario = (users.connect(name) for name in DEMO_USERS)
    make_room(admin)
    join(cliente)
    drain(admin, cliente, usuario)
    ack(admin, "send_message", {"room": "sala1", "text": "solo miembros"})
    assert [m["text"] for m in events(cliente, "message")] == ["solo miembros"]
    assert [m["text"] for m in events(admin, "message")] == ["solo miembros"]
    assert events(usuario, "message") == []


def test_room_messages_arrive_in_the_order_sent(users, clock):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    join(cliente)
    for n in range(15):
        ack(admin, "send_message", {"room": "sala1", "text": f"m{n}"})
    assert [m["text"] for m in events(cliente, "message")] == [f"m{n}" for n in range(15)]


def test_direct_message_reaches_only_the_pair(users):
    admin, cliente, usuario = (users.connect(name) for name in DEMO_USERS)
    drain(admin, cliente, usuario)
    answer = ack(cliente, "send_direct", {"to": "admin", "text": "privado"})
    for sock in (admin, cliente):
        [message] = events(sock, "message")
        assert (message["id"], message["room"]) == (answer["id"], "dm:admin:cliente")
    assert events(usuario, "message") == []


def test_direct_message_is_audited_without_its_text(app, users, read_audit, audit_rows):
    cliente = users.connect("cliente")
    ack(cliente, "send_direct", {"to": "admin", "text": "texto-secreto-del-dm"})
    [row] = audit_rows("direct_message")
    assert (row["user"], row["target"]) == ("cliente", "admin")
    assert "texto-secreto-del-dm" not in str(read_audit(app))


@pytest.mark.parametrize("to", ["nadie", "fantasma_99"])
def test_direct_message_to_unknown_user_answers_not_found(users, to):
    answer = ack(users.connect("admin"), "send_direct", {"to": to, "text": "hola"})
    assert answer["error"] == "not_found"


def test_create_room_joins_the_creator(users):
    answer = make_room(users.connect("admin"))
    assert answer == {"ok": True, "room": "sala1", "members": ["admin"], "persistent": False,
                      "creator": "admin", "retention_days": 0,
                      "history": []}


@pytest.mark.parametrize("code", ["sala1", "lobby", "LOBBY"])
def test_create_room_with_a_taken_code_answers_exists(users, code):
    admin = users.connect("admin")
    make_room(admin)
    answer = ack(admin, "create_room", {"code": code, "password": "otra"})
    assert answer["error"] == "exists"


def test_join_room_answers_members_and_tells_the_members(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    drain(admin)
    answer = join(cliente)
    assert answer == {"ok": True, "room": "sala1", "members": ["admin", "cliente"],
                      "persistent": False, "creator": "admin", "retention_days": 0,
                      "history": []}
    [joined] = events(admin, "user_joined")
    assert (joined["room"], joined["user"]) == ("sala1", "cliente")


def test_join_unknown_room_answers_not_found_and_is_audited(app, users, audit_rows):
    assert join(users.connect("admin"), "no-existe")["error"] == "not_found"
    assert audit_rows("room_join_failed")[0]["outcome"] == "not_found"


def test_sending_to_a_room_not_joined_is_forbidden(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    answer = ack(cliente, "send_message", {"room": "sala1", "text": "intruso"})
    assert answer["error"] == "forbidden"


def test_leave_room_tells_members_and_ends_membership(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    join(cliente)
    drain(admin)
    assert ack(cliente, "leave_room", {"room": "sala1"}) == {"ok": True}
    assert [e["user"] for e in events(admin, "user_left")] == ["cliente"]
    assert ack(cliente, "send_message", {"room": "sala1", "text": "x"})["error"] == "forbidden"


def test_close_room_by_creator_tells_members_and_frees_the_code(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    join(cliente)
    assert ack(admin, "close_room", {"room": "sala1"}) == {"ok": True}
    assert [e["room"] for e in events(cliente, "room_closed")] == ["sala1"]
    assert ack(cliente, "send_message", {"room": "sala1", "text": "x"})["error"] == "forbidden"
    assert make_room(cliente)["members"] == ["cliente"]


def test_administrator_may_close_any_room(users):
    cliente, admin = users.connect("cliente"), users.connect("admin")
    make_room(cliente)
    assert ack(admin, "close_room", {"room": "sala1"}) == {"ok": True}


def test_member_who_did_not_create_the_room_may_not_close_it(users):
    cliente, usuario = users.connect("cliente"), users.connect("usuario")
    make_room(cliente)
    join(usuario)
    assert ack(usuario, "close_room", {"room": "sala1"})["error"] == "forbidden"


def test_sixth_join_is_locked_even_with_the_right_password(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    failures = [join(cliente, password=f"mala{n}")["error"] for n in range(5)]
    assert failures == ["wrong_password"] * 5
    assert join(cliente)["error"] == "locked"


def test_room_lockout_is_per_user(users):
    admin, cliente, usuario = (users.connect(name) for name in DEMO_USERS)
    make_room(admin)
    for n in range(5):
        join(cliente, password=f"mala{n}")
    assert join(usuario)["ok"]


def test_persistent_room_sends_the_last_50_messages_oldest_first(users, clock):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, persistent=True)
    for n in range(55):
        ack(admin, "send_message", {"room": "sala1", "text": f"m{n}"})
        clock.advance(1)
    history = join(cliente)["history"]
    assert [m["text"] for m in history] == [f"m{n}" for n in range(5, 55)]
    assert {m["room"] for m in history} == {"sala1"} and {m["user"] for m in history} == {"admin"}


def test_ephemeral_room_has_no_history(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    ack(admin, "send_message", {"room": "sala1", "text": "efímero"})
    assert join(cliente)["history"] == []


@pytest.mark.parametrize(
    ("event", "outcome"),
    [("room_created", "ok"), ("room_joined", "ok"), ("room_left", "ok")],
)
def test_room_lifecycle_is_audited(app, users, event, outcome, audit_rows):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    join(cliente)
    ack(cliente, "leave_room", {"room": "sala1"})
    [row] = audit_rows(event)
    assert (row["target"], row["outcome"]) == ("sala1", outcome)


def test_unknown_event_answers_bad_request(users):
    assert ack(users.connect("admin"), "borrar_todo", {})["error"] == "bad_request"


def test_unexpected_error_answers_plainly_and_logs_no_text(users, monkeypatch, caplog):
    def broken(room, message):
        raise RuntimeError(f"no se pudo guardar {message['text']}")

    monkeypatch.setattr("chat.rooms.save_message", broken)
    admin = users.connect("admin")
    make_room(admin, persistent=True)
    answer = ack(admin, "send_message", {"room": "sala1", "text": "texto-que-no-se-registra"})
    assert answer["error"] == "internal" and admin.is_connected()
    assert "RuntimeError" in caplog.text and "texto-que-no-se-registra" not in caplog.text


def test_chat_status_lists_online_users_and_rooms(app, users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, persistent=True)
    join(cliente)
    with app.app_context():
        status = chat_status()
    assert status == {
        "online": ["admin", "cliente"],
        "rooms": [{"room": "sala1", "members": 2, "persistent": True}],
    }


# --- limits ---------------------------------------------------------------------------


def test_21st_event_in_a_burst_is_rate_limited(users, clock):
    admin = users.connect("admin")
    answers = [ack(admin, "typing", {"room": "lobby"}) for _ in range(21)]
    assert all(a["ok"] for a in answers[:20])
    assert answers[20]["error"] == "rate_limited"


def test_event_budget_refills_at_ten_per_second(users, clock):
    admin = users.connect("admin")
    for _ in range(21):
        ack(admin, "typing", {"room": "lobby"})
    clock.advance(0.1)
    assert ack(admin, "typing", {"room": "lobby"})["ok"]


def test_typing_reaches_the_others_once_per_two_seconds(users, clock):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    for _ in range(3):
        ack(admin, "typing", {"room": "lobby"})
    clock.advance(2)
    ack(admin, "typing", {"room": "lobby"})
    assert events(cliente, "typing") == [{"room": "lobby", "user": "admin"}] * 2
    assert events(admin, "typing") == []


def test_typing_in_a_direct_conversation_reaches_only_the_other_person(users):
    admin, cliente, usuario = (users.connect(name) for name in DEMO_USERS)
    assert ack(cliente, "typing", {"room": "dm:admin:cliente"})["ok"]
    assert events(admin, "typing") == [{"room": "dm:admin:cliente", "user": "cliente"}]
    assert events(usuario, "typing") == []
    assert ack(usuario, "typing", {"room": "dm:admin:cliente"})["error"] == "forbidden"


# --- sessions end for sockets too -------------------------------------------------------


def test_socket_closes_after_logout(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    drain(admin)
    cliente.http.post("/logout")
    assert not cliente.is_connected()
    assert events(admin, "presence") == [{"online": ["admin"]}]


def test_socket_closes_after_the_account_is_disabled_from_the_cli(app, users):
    usuario = users.connect("usuario")
    result = app.test_cli_runner().invoke(args=["users", "disable", "usuario"])
    assert result.exit_code == 0, result.output
    assert not usuario.is_connected()


def test_event_after_the_session_token_changed_is_refused(app, users, clock):
    cliente = users.connect("cliente")
    with app.app_context():
        find_user("cliente").rotate_session_token()  # no signal: the periodic check must catch it
        db.session.commit()
    clock.advance(SESSION_RECHECK_SECONDS)
    assert ack(cliente, "send_message", {"room": "lobby", "text": "x"})["error"] == "forbidden"
    assert not cliente.is_connected()


# --- ephemeral means ephemeral ----------------------------------------------------------


def test_ephemeral_text_leaves_no_trace_in_database_or_logs(app, users, tmp_path: Path, read_audit):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "efimera")
    join(cliente, "efimera")
    make_room(admin, "guardada", persistent=True)
    marker, kept = f"marca-{uuid.uuid4().hex}", f"guardado-{uuid.uuid4().hex}"
    for room in ("lobby", "efimera"):
        ack(admin, "send_message", {"room": room, "text": marker})
    ack(admin, "send_direct", {"to": "cliente", "text": marker})
    ack(admin, "send_message", {"room": "guardada", "text": kept})
    assert [m["text"] for m in events(cliente, "message")] == [marker] * 3
    read_audit(app)  # flushes the audit buffer
    database = b"".join(p.read_bytes() for p in tmp_path.glob("pichat.db*"))
    logs = b"".join(p.read_bytes() for p in Path(app.config["LOG_DIR"]).rglob("*") if p.is_file())
    assert kept.encode() in database  # the scan does find text that is meant to be stored
    assert marker.encode() not in database and marker.encode() not in logs


def test_wrong_room_passwords_at_the_same_instant_count_each_and_lock(users, read_audit, app):
    admin = users.connect("admin")
    make_room(admin)
    guessers = [users.connect("cliente") for _ in range(8)]
    start = threading.Barrier(len(guessers))

    def guess(sock: SocketIOTestClient) -> str:
        start.wait()
        return join(sock, password=f"mala-{id(sock)}")["error"]

    with ThreadPoolExecutor(len(guessers)) as pool:
        answers = sorted(pool.map(guess, guessers))
    assert answers == ["locked"] * 3 + ["wrong_password"] * 5
    assert join(guessers[0])["error"] == "locked"  # even with the right password
    failed = [row for row in read_audit(app) if row["event"] == "room_join_failed"]
    assert len(failed) == 9


def test_room_password_attempts_share_one_budget_across_an_accounts_sockets(users):
    first, second = users.connect("cliente"), users.connect("cliente")
    answers = [join(sock, code=f"sala{n}")["error"] for n in range(11)
               for sock in (first if n % 2 else second,)]
    assert answers == ["not_found"] * 10 + ["rate_limited"]


def test_persistent_rooms_stop_at_the_quota_even_when_created_at_the_same_instant(app, users):
    app.extensions["chat"].max_rooms_per_user = 3
    sockets = [users.connect("cliente") for _ in range(8)]
    start = threading.Barrier(len(sockets))

    def create(numbered: tuple[int, SocketIOTestClient]) -> str:
        number, sock = numbered
        start.wait()
        payload = {"code": f"propia{number}", "password": "secreta", "persistent": True}
        answer = ack(sock, "create_room", payload)
        return "ok" if answer["ok"] else answer["error"]

    with ThreadPoolExecutor(len(sockets)) as pool:
        answers = sorted(pool.map(create, enumerate(sockets)))
    assert answers == ["ok"] * 3 + ["quota"] * 5
    ephemeral = ack(sockets[0], "create_room", {"code": "efimera", "password": "secreta"})
    assert ephemeral["ok"]


def test_one_account_holds_at_most_its_socket_cap_and_the_next_is_refused(app, users, login,
                                                                          read_audit):
    app.extensions["chat"].max_sockets_per_user = 3
    held = [users.connect("usuario") for _ in range(3)]
    http = app.test_client()
    login(http, "usuario")
    extra = socketio.test_client(app, flask_test_client=http)
    assert not extra.is_connected()
    assert all(sock.is_connected() for sock in held)
    refused = [row for row in read_audit(app) if row["event"] == "socket_refused"]
    assert refused[0]["outcome"] == "too_many_sockets"
    held[0].disconnect()
    assert socketio.test_client(app, flask_test_client=http).is_connected()
