"""`flask users ...` and `flask db upgrade`."""

from __future__ import annotations

from sqlalchemy import inspect

from app import prepare_database
from extensions import db
from security.accounts import find_user


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def test_users_create_then_the_user_logs_in(runner, client, login):
    result = invoke(
        runner, "users", "create", "marta", "--role", "cliente", "--password", "Sol-Y-Luna-2026"
    )
    assert result.exit_code == 0, result.output
    assert login(client, "marta", "Sol-Y-Luna-2026", expect=None).status_code == 302


def test_users_create_refuses_a_weak_password(runner):
    result = invoke(runner, "users", "create", "marta", "--password", "marta12345")
    assert result.exit_code != 0
    assert "nombre de usuario" in result.output


def test_users_create_refuses_a_duplicate(runner):
    result = invoke(runner, "users", "create", "admin", "--password", "Otra-Clave-Larga-9")
    assert result.exit_code != 0 and "Ya existe" in result.output


def test_users_list_shows_every_account(runner):
    output = invoke(runner, "users", "list").output
    for name in ("admin", "cliente", "usuario"):
        assert name in output


def test_set_role_changes_what_the_user_is(app, runner):
    assert invoke(runner, "users", "set-role", "usuario", "cliente").exit_code == 0
    with app.app_context():
        assert find_user("usuario").role == "cliente"


def test_disable_then_enable(runner, client, login):
    invoke(runner, "users", "disable", "usuario")
    assert login(client, "usuario", expect=None).status_code == 403
    invoke(runner, "users", "enable", "usuario")
    assert login(client, "usuario", expect=None).status_code == 302


def test_reset_password_replaces_the_old_one(runner, client, login):
    result = invoke(runner, "users", "reset-password", "usuario", "--password", "Nueva-Clave-2026")
    assert result.exit_code == 0, result.output
    assert login(client, "usuario", expect=None).status_code == 401
    assert login(client, "usuario", "Nueva-Clave-2026", expect=None).status_code == 302


def test_unlock_lifts_a_lockout(runner, client, login):
    for _ in range(5):
        login(client, "cliente", "wrong-password", expect=401)
    assert login(client, "cliente", expect=None).status_code == 429
    assert invoke(runner, "users", "unlock", "cliente").exit_code == 0
    assert login(client, "cliente", expect=None).status_code == 302


def test_last_administrator_cannot_be_disabled(runner):
    result = invoke(runner, "users", "disable", "admin")
    assert result.exit_code != 0 and "último administrador" in result.output


def test_db_upgrade_creates_the_schema_on_a_fresh_database(another_app, tmp_path):
    fresh = another_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    result = fresh.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert "users" in inspect(db.engine).get_table_names()


def test_schema_and_login_work_on_postgresql(another_app, postgres_url, login):
    pg_app = another_app(DATABASE_URL=postgres_url)
    assert set(prepare_database(pg_app)) == {"admin", "cliente", "usuario"}
    answer = login(pg_app.test_client(), "admin", expect=None)
    assert answer.status_code == 302


def test_lockouts_count_in_postgresql_too(another_app, postgres_url, login, chat_sockets):
    pg_app = another_app(DATABASE_URL=postgres_url)
    prepare_database(pg_app)
    client = pg_app.test_client()
    answers = [login(client, "usuario", f"mala-{n}", expect=None).status_code for n in range(6)]
    assert answers == [401] * 5 + [429]
    with chat_sockets(pg_app) as users:
        admin, cliente = users.connect("admin"), users.connect("cliente")
        room = {"code": "sala-pg", "password": "secreta"}
        assert admin.emit("create_room", room, callback=True)["ok"]
        wrong = [cliente.emit("join_room", {**room, "password": f"mala-{n}"}, callback=True)
                 for n in range(6)]
        assert [answer["error"] for answer in wrong] == ["wrong_password"] * 5 + ["locked"]
        pg_app.extensions["chat"].max_rooms_per_user = 1
        kept = [admin.emit("create_room", {"code": f"pg-{n}", "password": "secreta",
                                           "persistent": True}, callback=True) for n in range(2)]
        assert [answer.get("error") for answer in kept] == [None, "quota"]
