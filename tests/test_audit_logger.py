"""AuditLogger: buffering, flushing, rotation, concurrency, shutdown, cells, Flask wiring."""

import csv
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_login import LoginManager, UserMixin, login_user

import logging_
from logging_ import trail
from logging_.applog import configure_app_logging
from logging_.audit_logger import SECURITY_EVENTS, AuditLogger
from logging_.reader import read_rows
from logging_.trail import trail_names
from logging_.verify import verify
from sanitization.csv_cells import neutralise_csv_cell

KEY = b"test-audit-key"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def logger(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY, flush_interval=3600)
    yield audit
    audit.close()


def all_rows(folder) -> list[list[str]]:
    """Every row of the trail (seq first, rotation rows included), oldest first."""
    rows = []
    for name in trail_names(str(folder), "audit.csv"):
        with open(os.path.join(folder, name), newline="", encoding="utf-8") as stream:
            rows.extend(list(csv.reader(stream))[1:])
    return rows


def stored_rows(folder) -> list[list[str]]:
    """Every event row of the trail, oldest first, from ts to chain (no seq, no rotation rows)."""
    return [row[1:] for row in all_rows(folder) if row[2] != "trail_rotated"]


def details(folder) -> list[str]:
    return [row[6] for row in stored_rows(folder)]


def test_routine_event_waits_in_buffer_until_flush(logger, tmp_path):
    logger.log("room_joined", user="ana")
    assert details(tmp_path) == []
    logger.flush()
    assert [row[1:3] for row in stored_rows(tmp_path)] == [["room_joined", "ana"]]


@pytest.mark.parametrize("event", sorted(SECURITY_EVENTS))
def test_security_event_is_on_disk_when_log_returns(logger, tmp_path, event):
    logger.log(event, user="ana", detail="now")
    assert details(tmp_path) == ["now"]


def test_full_buffer_flushes(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY, buffer_size=10, flush_interval=3600)
    for index in range(10):
        audit.log("room_joined", detail=str(index))
    assert len(details(tmp_path)) == 10
    audit.close()


def test_timer_flushes_within_interval(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY, flush_interval=0.05)
    audit.log("room_joined", detail="tick")
    deadline = time.monotonic() + 5
    while not details(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert details(tmp_path) == ["tick"]
    audit.close()


def test_close_is_idempotent_and_later_rows_write_through(logger, tmp_path):
    logger.log("logout", detail="a")
    logger.close()
    logger.close()
    logger.log("logout", detail="b")
    assert details(tmp_path) == ["a", "b"]


def test_failed_write_leaves_no_partial_row_and_retries(logger, tmp_path, monkeypatch):
    logger.log("logout", detail="first")
    logger.flush()
    logger.log("logout", detail="kept")

    def write_half_then_fail(fd, data):
        os.write(fd, data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(trail, "_write_all", write_half_then_fail)
    with pytest.raises(OSError):
        logger.flush()
    assert details(tmp_path) == ["first"]
    monkeypatch.undo()
    logger.flush()
    assert details(tmp_path) == ["first", "kept"]
    assert verify(str(tmp_path), KEY).ok


def test_timestamp_is_utc_iso_8601_with_microseconds(logger, tmp_path):
    logger.log("logout")
    logger.flush()
    stamp = stored_rows(tmp_path)[0][0]
    assert stamp.endswith("+00:00") and len(stamp) == len("2026-11-27T21:30:00.123456+00:00")
    assert abs(datetime.fromisoformat(stamp) - datetime.now(UTC)).total_seconds() < 60


def test_eight_threads_through_rotation_lose_split_or_duplicate_nothing(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY, max_file_size_mb=0.5, backup_count=200)

    def work(thread: int) -> None:
        for index in range(20_000):
            audit.log("room_joined", user=f"u{thread}", ip="10.0.0.1", detail=f"{thread}-{index}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    audit.close()
    rows = stored_rows(tmp_path)
    assert all(len(row) == 8 for row in rows)
    assert len(rows) == 160_000
    assert {row[6] for row in rows} == {f"{t}-{i}" for t in range(8) for i in range(20_000)}
    assert len(trail_names(str(tmp_path), "audit.csv")) >= 4
    assert verify(str(tmp_path), KEY).ok


CHILD_WRITER = """
import os, sys, time
from logging_.audit_logger import SECURITY_EVENTS, AuditLogger
folder, worker = sys.argv[1], sys.argv[2]
audit = AuditLogger(folder, b"test-audit-key", max_file_size_mb=0.1, backup_count=200,
                    buffer_size=50)
while not os.path.exists(os.path.join(folder, "go")):
    time.sleep(0.001)
for index in range(15_000):
    audit.log("room_joined", user="w" + worker, detail=f"{worker}-{index}")
audit.close()
"""


def python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True, **kwargs)


def test_three_processes_share_one_chain_through_rotation(tmp_path):
    children = [python(CHILD_WRITER, str(tmp_path), str(w)) for w in range(3)]
    (tmp_path / "go").touch()
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0]
    rows = stored_rows(tmp_path)
    assert len(rows) == 45_000
    assert {row[6] for row in rows} == {f"{w}-{i}" for w in range(3) for i in range(15_000)}
    assert len(trail_names(str(tmp_path), "audit.csv")) >= 4
    assert verify(str(tmp_path), KEY).ok


CHILD_KILLED = """
import sys, time
from logging_.audit_logger import SECURITY_EVENTS, AuditLogger
audit = AuditLogger(sys.argv[1], b"test-audit-key", buffer_size=100_000, flush_interval=3600)
for index in range(500):
    audit.log("room_joined", detail=f"routine-{index}")
    if sys.argv[2] == "security" and index % 50 == 0:
        audit.log("login_failed", user="eve", detail=f"security-{index}")
print("ready", flush=True)
time.sleep(60)
"""


def test_sigkill_loses_no_security_event(tmp_path):
    child = python(CHILD_KILLED, str(tmp_path), "security", stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == "ready"
    child.kill()
    child.wait(timeout=10)
    on_disk = set(details(tmp_path))
    assert {f"security-{i}" for i in range(0, 500, 50)} <= on_disk
    assert verify(str(tmp_path), KEY).ok


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_termination_signal_flushes_every_event_and_still_ends(tmp_path, signum):
    child = python(
        CHILD_KILLED, str(tmp_path), "routine", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout.readline().strip() == "ready"
    child.send_signal(signum)
    assert child.wait(timeout=10) == -signum
    assert details(tmp_path) == [f"routine-{i}" for i in range(500)]


def test_forked_child_does_not_rewrite_the_parents_buffer(logger, tmp_path):
    logger.log("logout", detail="parent")
    pid = os.fork()
    if pid == 0:
        logger.log("logout", detail="child")
        logger.close()
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    logger.flush()
    assert sorted(details(tmp_path)) == ["child", "parent"]


MEGABYTE = "x" * 1_000_000
SPANISH = "¿Dónde está el niño? Año, pingüino, corazón 😀🎉👩‍💻"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("line one\r\nline two\nthree", "line one\\nline two\\nthree"),
        (MEGABYTE, "x" * (2000 - len("…[truncado]")) + "…[truncado]"),
        (SPANISH, SPANISH),
    ],
)
def test_cells_are_stored_neutralised_and_read_back_by_csv(logger, tmp_path, value, expected):
    logger.log("file_uploaded", target=value, detail=value)
    logger.flush()
    (row,) = stored_rows(tmp_path)
    assert row[4] == row[6] == expected == neutralise_csv_cell(value)


def test_lone_surrogate_is_stored_replaced_and_chained(logger, tmp_path):
    logger.log("file_uploaded", target="bad\ud800name")
    logger.flush()
    assert stored_rows(tmp_path)[0][4] == "bad?name"
    assert verify(str(tmp_path), KEY).ok


def test_user_is_neutralised_and_cut_at_64(logger, tmp_path):
    logger.log("login_failed", user="=" + "a" * 200)
    (row,) = stored_rows(tmp_path)
    assert row[2].startswith("'=") and len(row[2]) <= 64


@pytest.fixture
def app(audit_app):
    return audit_app({"SECRET_KEY": "secret"}, AUDIT_FLUSH_SECONDS=3600)


def test_audit_max_mb_and_backup_count_bound_the_files_on_disk(audit_app, tmp_path):
    env = {"SECRET_KEY": "secret", "AUDIT_MAX_MB": "0.002", "AUDIT_BACKUP_COUNT": "2"}
    app = audit_app(env, AUDIT_BUFFER_ROWS=5)
    for index in range(200):
        app.extensions["audit"].log("room_joined", user="ana", detail=f"vuelta {index}")
    app.extensions["audit"].flush()
    assert trail_names(str(tmp_path), "audit.csv") == ["audit.csv.2", "audit.csv.1", "audit.csv"]
    # A file rotates once past 2 KiB, after the batch that crossed it (5 rows here).
    assert all(os.path.getsize(tmp_path / name) < 2 * 2048 for name in os.listdir(tmp_path)
               if name.startswith("audit.csv") and not name.endswith(".lock"))
    assert verify(str(tmp_path), app.config["AUDIT_KEY"].encode()).ok


def test_an_event_missing_from_the_one_list_is_refused(logger):
    with pytest.raises(ValueError, match="unknown audit event"):
        logger.log("made_up_event")


def test_audit_helper_takes_ip_from_request_and_given_user(app, tmp_path):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.168.1.77"}):
        logging_.audit("login_failed", target="login", outcome="denied", user="mallory")
    (row,) = read_rows(str(tmp_path))
    assert (row["user"], row["ip"], row["outcome"]) == ("mallory", "192.168.1.77", "denied")


def test_audit_helper_outside_request_uses_given_ip(app, tmp_path):
    with app.app_context():
        logging_.audit("file_infected", target="f1", ip="cli")
    assert read_rows(str(tmp_path))[0]["ip"] == "cli"


def test_audit_helper_prefers_logged_in_user(app, tmp_path):
    class User(UserMixin):
        id = username = "carla"

    LoginManager(app).user_loader(lambda _id: None)
    with app.test_request_context("/"):
        login_user(User())
        logging_.audit("file_deleted", user="someone-else")
    assert read_rows(str(tmp_path))[0]["user"] == "carla"


def test_app_logging_does_not_stack_handlers(app, tmp_path):
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_app_logging(app)
        configure_app_logging(app)
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 2
        logging.getLogger("pichat.test").warning("hola")
        ours[1].flush()
        assert "hola" in (tmp_path / "pichat.log").read_text(encoding="utf-8")
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
