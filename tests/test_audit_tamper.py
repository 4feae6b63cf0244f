"""Tamper evidence (security review finding 5): seq, rotation rows, audit.head, syslog copy."""

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_config
from logging_.audit_logger import AuditLogger
from logging_.chain import ChainHasher
from logging_.head import inspect_head
from logging_.trail import LEGACY_DIR, trail_names
from logging_.verify import verify

KEY = b"test-audit-key"
ROOT = Path(__file__).resolve().parent.parent


def write_trail(folder, rows: int, backup_count: int = 50, max_mb: float = 0.002) -> list[str]:
    """Write ``rows`` events (through rotations at ``max_mb``); return the file names."""
    audit = AuditLogger(
        str(folder), KEY, max_file_size_mb=max_mb, backup_count=backup_count, buffer_size=5
    )
    for index in range(rows):
        audit.log("room_joined", user=f"user{index % 7}", ip="10.0.0.9", detail=f"row {index}")
    audit.close()
    return trail_names(str(folder), "audit.csv")


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def write(path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream, lineterminator="\r\n").writerows(rows)


def all_rows(folder) -> list[list[str]]:
    """Every row after the headers, oldest first, seq first."""
    return [
        row for name in trail_names(str(folder), "audit.csv") for row in read(folder / name)[1:]
    ]


def last_seq(folder) -> int:
    return int(all_rows(folder)[-1][0])


def failure(folder) -> tuple[str | None, int | None, str]:
    result = verify(str(folder), KEY)
    assert not result.ok
    return result.file, result.line, result.reason


@pytest.fixture
def single(tmp_path):
    """One file: a rotation row and 40 events."""
    audit = AuditLogger(str(tmp_path), KEY, flush_interval=3600)
    for index in range(40):
        audit.log("logout", detail=str(index))
    audit.close()
    return tmp_path


@pytest.fixture
def rotated(tmp_path):
    """120 events through several rotations, every file kept."""
    assert len(write_trail(tmp_path, 120)) >= 4
    return tmp_path


# --- the format -----------------------------------------------------------------------


def test_every_file_opens_with_a_rotation_row_carrying_the_previous_end(rotated):
    names = trail_names(str(rotated), "audit.csv")
    previous = ("0", None)
    for name in names:
        header, opening, *rows = read(rotated / name)
        assert header == [
            "seq",
            "ts",
            "event",
            "user",
            "ip",
            "target",
            "outcome",
            "detail",
            "chain",
        ]
        assert opening[2] == "trail_rotated"
        prev_seq, prev_chain = opening[7].split(" ")
        assert prev_seq == f"prev_seq={previous[0]}"
        if previous[1] is not None:
            assert prev_chain == f"prev_chain={previous[1]}"
        last = (rows or [opening])[-1]
        previous = (last[0], last[8])


def test_seq_runs_on_without_gaps_across_rotation(rotated):
    assert [int(row[0]) for row in all_rows(rotated)] == list(range(1, last_seq(rotated) + 1))


def test_head_names_the_last_row(rotated):
    seq, chain = all_rows(rotated)[-1][0], all_rows(rotated)[-1][8]
    head, _, damaged = inspect_head((rotated / "audit.head").read_bytes(), ChainHasher(KEY))
    assert (head, damaged) == ((int(seq), chain), False)
    assert f"seq={seq} chain={chain} mac=" in (rotated / "audit.head").read_text()


def test_log_refuses_to_write_a_rotation_row(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY)
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.log("trail_rotated", detail="prev_seq=0 prev_chain=" + "0" * 64)
    audit.close()


CHILD_WRITER = """
import os, sys, time
from config import ConfigError, load_config
from logging_.audit_logger import AuditLogger
from logging_.chain import ChainHasher
from logging_.head import inspect_head
folder, worker = sys.argv[1], sys.argv[2]
audit = AuditLogger(folder, b"test-audit-key", max_file_size_mb=0.05, backup_count=500,
                    buffer_size=7, flush_interval=0.01)
while not os.path.exists(os.path.join(folder, "go")):
    time.sleep(0.001)
for index in range(6_000):
    audit.log("room_joined", user="w" + worker, detail=f"{worker}-{index}")
    if index % 500 == 0:
        audit.log("login_failed", user="w" + worker, detail=f"{worker}-security-{index}")
audit.close()
"""


def test_seq_is_one_sequence_across_two_processes_writing_at_once(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD_WRITER, str(tmp_path), str(w)], env=env)
        for w in range(2)
    ]
    (tmp_path / "go").touch()
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    rows = all_rows(tmp_path)
    assert [int(row[0]) for row in rows] == list(range(1, len(rows) + 1))
    assert len([row for row in rows if row[2] != "trail_rotated"]) == 2 * (6_000 + 12)
    assert {row[3] for row in rows if row[2] == "room_joined"} == {"w0", "w1"}
    assert len(trail_names(str(tmp_path), "audit.csv")) >= 4
    result = verify(str(tmp_path), KEY)
    assert result.ok, result


# --- the review's attacks ---------------------------------------------------------------


def test_removing_the_last_20_rows_of_a_rotated_trail_is_a_cut(tmp_path):
    write_trail(tmp_path, 340, max_mb=0.01)
    assert len(trail_names(str(tmp_path), "audit.csv")) >= 3
    rows = read(tmp_path / "audit.csv")
    assert len(rows) > 22
    write(tmp_path / "audit.csv", rows[:-20])
    name, line, reason = failure(tmp_path)
    assert (name, line) == ("audit.csv", len(rows) - 20 + 1)
    assert reason.startswith(f"corte: faltan las filas posteriores a la seq {rows[-21][0]} ")


def test_removing_the_last_20_rows_across_two_files_names_the_missing_end(rotated):
    newest = read(rotated / "audit.csv")
    older = read(rotated / "audit.csv.1")
    write(rotated / "audit.csv.1", older[: len(older) - (20 - (len(newest) - 2))])
    write(rotated / "audit.csv", newest[:2])
    name, line, reason = failure(rotated)
    assert (name, line) == ("audit.csv", 2)
    assert reason.startswith("faltan las filas seq ") and "al final de audit.csv.1" in reason


def test_removing_the_last_20_rows_of_the_only_file_names_the_cut(single):
    rows = read(single / "audit.csv")
    write(single / "audit.csv", rows[:-20])
    name, line, reason = failure(single)
    assert (name, line) == ("audit.csv", len(rows) - 20 + 1)
    assert (
        reason == "corte: faltan las filas posteriores a la seq 21 (audit.head registra la seq 41)"
    )


@pytest.mark.parametrize("fixture", ["single", "rotated"])
def test_removing_everything_but_the_header_is_a_cut(request, fixture):
    folder = request.getfixturevalue(fixture)
    before = int(read(folder / "audit.csv")[1][0]) - 1  # what precedes the newest file
    write(folder / "audit.csv", read(folder / "audit.csv")[:1])
    name, line, reason = failure(folder)
    assert (name, line) == ("audit.csv", 2)
    assert reason.startswith(f"corte: faltan las filas posteriores a la seq {before} ")


def test_dropping_old_files_and_planting_a_header_only_rotated_file_is_named(rotated):
    header = read(rotated / "audit.csv")[:1]
    for name in trail_names(str(rotated), "audit.csv")[:-1]:
        (rotated / name).unlink()
    write(rotated / "audit.csv.1", header)
    assert failure(rotated) == (
        "audit.csv.1",
        2,
        "archivo falso o vaciado: no empieza con una fila de rotación",
    )


def test_replacing_the_whole_trail_with_a_header_only_file_is_a_cut(rotated):
    header = read(rotated / "audit.csv")[:1]
    for name in trail_names(str(rotated), "audit.csv"):
        (rotated / name).unlink()
    write(rotated / "audit.csv", header)
    name, line, reason = failure(rotated)
    assert reason.startswith("corte: faltan las filas posteriores a la seq 0 ")


def test_a_planted_file_without_the_head_is_still_refused(rotated):
    header = read(rotated / "audit.csv")[:1]
    for name in trail_names(str(rotated), "audit.csv"):
        (rotated / name).unlink()
    (rotated / "audit.head").unlink()
    write(rotated / "audit.csv", header)
    assert failure(rotated)[2] == "archivo falso o vaciado: no empieza con una fila de rotación"


@pytest.mark.parametrize("middle", ["audit.csv.2", "audit.csv.1"])
def test_deleting_a_middle_rotated_file_names_it(rotated, middle):
    (rotated / middle).unlink()
    name, line, reason = failure(rotated)
    assert line == 2 and reason.startswith(f"falta el archivo {middle} (las filas seq ")


def test_deleting_a_middle_file_after_rotation_dropped_old_ones_is_named(tmp_path):
    assert write_trail(tmp_path, 200, backup_count=3)[0] == "audit.csv.3"
    assert verify(str(tmp_path), KEY).ok
    (tmp_path / "audit.csv.2").unlink()
    assert failure(tmp_path)[2].startswith("falta el archivo audit.csv.2 ")


def test_a_forged_rotation_row_in_the_oldest_kept_file_is_refused(tmp_path):
    write_trail(tmp_path, 200, backup_count=3)
    rows = read(tmp_path / "audit.csv.3")
    rows[1][7] = "prev_seq=0 prev_chain=" + "0" * 64
    write(tmp_path / "audit.csv.3", rows)
    assert failure(tmp_path)[:2] == ("audit.csv.3", 2)


def test_swapping_two_rows_names_the_first_one_out_of_place(single):
    rows = read(single / "audit.csv")
    rows[5], rows[6] = rows[6], rows[5]
    write(single / "audit.csv", rows)
    assert failure(single) == (
        "audit.csv",
        6,
        "faltan filas: tras la seq 4 viene la 6 (cadena rota)",
    )


def test_inserting_a_copied_row_names_it(single):
    rows = read(single / "audit.csv")
    rows.insert(6, list(rows[5]))
    write(single / "audit.csv", rows)
    name, line, reason = failure(single)
    assert (name, line) == ("audit.csv", 7)
    assert reason == "fila insertada o reordenada: seq 5 tras la 5 (cadena rota)"


def test_editing_a_row_names_it(single):
    rows = read(single / "audit.csv")
    rows[9][7] = "otra cosa"
    write(single / "audit.csv", rows)
    assert failure(single) == ("audit.csv", 10, "fila modificada: la cadena no coincide (seq 9)")


def test_renumbering_rows_after_a_removal_breaks_the_chain(single):
    rows = read(single / "audit.csv")
    del rows[10]
    for row in rows[10:]:
        row[0] = str(int(row[0]) - 1)
    write(single / "audit.csv", rows)
    assert failure(single)[:2] == ("audit.csv", 11)


def test_a_forged_or_missing_head_is_named(single):
    text = (single / "audit.head").read_text()
    (single / "audit.head").write_text(text.replace("seq=41", "seq=40"))
    assert failure(single) == ("audit.head", 1, "audit.head falsificado o ilegible")
    (single / "audit.head").unlink()
    assert failure(single)[:2] == ("audit.head", 1)


def test_writing_after_a_cut_keeps_the_gap_visible(single):
    rows = read(single / "audit.csv")
    write(single / "audit.csv", rows[:-5])
    audit = AuditLogger(str(single), KEY)
    audit.log("logout", detail="after the cut")
    audit.close()
    name, line, reason = failure(single)
    assert (name, line) == ("audit.csv", len(rows) - 5 + 1)
    assert reason == "faltan filas: tras la seq 36 viene la 42 (cadena rota)"


def test_cli_verify_exits_1_naming_the_cut(audit_app, tmp_path):
    app = audit_app({"SECRET_KEY": "cli-secret", "AUDIT_KEY": "cli-audit"})
    for index in range(30):
        app.extensions["audit"].log("logout", detail=str(index))
    app.extensions["audit"].flush()
    write(tmp_path / "audit.csv", read(tmp_path / "audit.csv")[:-20])
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "fallo: audit.csv, línea 13: corte: faltan las filas posteriores a la seq 11" in (
        result.output
    )


# --- AUDIT_SYSLOG -----------------------------------------------------------------------


@pytest.fixture
def udp_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    yield server
    server.close()


def received(server: socket.socket, count: int) -> list[str]:
    return [server.recv(65536).decode("utf-8") for _ in range(count)]


def test_every_row_is_also_sent_to_syslog_over_udp(tmp_path, udp_server):
    port = udp_server.getsockname()[1]
    audit = AuditLogger(str(tmp_path), KEY, flush_interval=3600, syslog=f"udp://127.0.0.1:{port}")
    audit.log("room_joined", user="ana", detail="uno")
    audit.log("login_failed", user="eve", detail="dos")  # a security event: flushed at once
    messages = received(udp_server, 3)
    audit.close()
    rows = [",".join(row) for row in all_rows(tmp_path)]
    # <86>: facility authpriv (10) * 8 + severity info (6).
    assert messages == [f"<86>pichat-audit: {row}\x00" for row in rows]
    assert ",room_joined,ana," in messages[1] and ",login_failed,eve," in messages[2]


def test_a_dead_syslog_loses_no_file_row(tmp_path, caplog):
    audit = AuditLogger(str(tmp_path), KEY, syslog=str(tmp_path / "no-such-socket"))
    audit.log("login_failed", user="eve", detail="kept")
    audit.close()
    assert [row[7] for row in all_rows(tmp_path)][-1] == "kept"
    assert verify(str(tmp_path), KEY).ok
    assert "audit syslog copy failed" in caplog.text


def test_the_app_sends_its_rows_to_audit_syslog(audit_app, udp_server):
    port = udp_server.getsockname()[1]
    app = audit_app({"SECRET_KEY": "s", "AUDIT_SYSLOG": f"udp://127.0.0.1:{port}"})
    app.extensions["audit"].log("login_failed", user="mallory")
    assert ",login_failed,mallory," in received(udp_server, 2)[1]


def load_with(monkeypatch, tmp_path, syslog: str):
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("AUDIT_SYSLOG", syslog)
    return load_config("testing")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("/dev/log", "/dev/log"),
        ("udp://127.0.0.1:514", "udp://127.0.0.1:514"),
        ("tcp://logs.lan:601", "tcp://logs.lan:601"),
        ("udp://[::1]:514", "udp://[::1]:514"),
    ],
)
def test_audit_syslog_accepts_a_path_or_udp_tcp_host_port(monkeypatch, tmp_path, value, expected):
    config = load_with(monkeypatch, tmp_path, value)
    assert expected == config.AUDIT_SYSLOG


@pytest.mark.parametrize(
    "value",
    [
        "logs.lan",
        "udp://logs.lan",
        "udp://logs.lan:0",
        "udp://logs.lan:70000",
        "http://logs.lan:514",
        "tcp://:514",
        "udp://logs.lan:514/x",
        "dev/log",
    ],
)
def test_malformed_audit_syslog_refuses_to_start(monkeypatch, tmp_path, value):
    with pytest.raises(ConfigError, match="^AUDIT_SYSLOG must be") as refused:
        load_with(monkeypatch, tmp_path, value)
    assert "\n" not in str(refused.value)


def test_a_trail_from_before_seq_is_set_aside_and_the_new_one_verifies(tmp_path):
    old_header = "ts,event,user,ip,target,outcome,detail,chain\r\n"
    old_rows = old_header + "2026-01-01T00:00:00+00:00,logout,ana,,,ok,,abc\r\n"
    (tmp_path / "audit.csv").write_bytes(old_rows.encode())
    (tmp_path / "audit.csv.1").write_bytes(old_header.encode())
    logger = AuditLogger(str(tmp_path), KEY, flush_interval=3600)
    logger.log("logout", user="ana")
    logger.close()
    kept = tmp_path / LEGACY_DIR
    assert (kept / "audit.csv").read_bytes() == old_rows.encode()
    assert (kept / "audit.csv.1").exists()
    assert verify(str(tmp_path), KEY).ok
