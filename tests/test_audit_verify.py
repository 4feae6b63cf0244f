"""Reading the trail back: verify() and `flask audit verify`, read_rows and rows_to_csv."""

import csv
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logging_.audit_logger import AuditLogger
from logging_.reader import read_rows, rows_to_csv
from logging_.trail import trail_names
from logging_.verify import verify

KEY = b"test-audit-key"


def write_trail(folder, rows: int, backup_count: int = 50) -> list[str]:
    """Write ``rows`` events through several rotations; return the file names."""
    audit = AuditLogger(
        str(folder), KEY, max_file_size_mb=0.002, backup_count=backup_count, buffer_size=5
    )
    for index in range(rows):
        audit.log("room_joined", user=f"user{index % 7}", ip="10.0.0.9", detail=f"row {index}")
    audit.close()
    return trail_names(str(folder), "audit.csv")


def edit_lines(path, change) -> None:
    """Apply ``change`` to the file's list of CSV rows and write it back."""
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


@pytest.fixture
def logger(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY, flush_interval=3600)
    yield audit
    audit.close()


@pytest.fixture
def trail(tmp_path):
    names = write_trail(tmp_path, 120)
    assert len(names) >= 4 and "audit.csv.2" in names
    return tmp_path


def test_untouched_trail_verifies(trail):
    result = verify(str(trail), KEY)
    assert (result.ok, result.rows, result.file, result.line) == (True, 120, None, None)


def test_wrong_key_fails_at_first_checked_row(trail):
    result = verify(str(trail), b"other key")
    assert not result.ok
    # The oldest file's rotation row (line 2) is checked under the key against the genesis.
    assert (result.file, result.line) == (trail_names(str(trail), "audit.csv")[0], 2)


def change_cell(rows):
    rows[4][6] = "row 999"


def delete_row(rows):
    del rows[4]


def insert_row(rows):
    rows.insert(4, list(rows[3]))


@pytest.mark.parametrize("change", [change_cell, delete_row, insert_row])
def test_tampering_in_rotated_file_names_file_and_line(trail, change):
    edit_lines(trail / "audit.csv.2", change)
    result = verify(str(trail), KEY)
    assert not result.ok
    assert (result.file, result.line) == ("audit.csv.2", 5)
    assert "cadena" in result.reason


def test_removing_last_row_of_a_file_fails_at_next_file(trail):
    edit_lines(trail / "audit.csv.2", lambda rows: rows.pop())
    result = verify(str(trail), KEY)
    assert (result.ok, result.file, result.line) == (False, "audit.csv.1", 2)


def test_removing_a_whole_rotated_file_is_detected(trail):
    (trail / "audit.csv.2").unlink()
    assert verify(str(trail), KEY).file == "audit.csv.1"


def test_files_dropped_by_rotation_leave_a_trusted_anchor(tmp_path):
    write_trail(tmp_path, 200, backup_count=2)
    assert trail_names(str(tmp_path), "audit.csv") == ["audit.csv.2", "audit.csv.1", "audit.csv"]
    assert verify(str(tmp_path), KEY).ok


def test_single_file_must_start_the_chain(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY)
    for index in range(5):
        audit.log("logout", detail=str(index))
    audit.close()
    edit_lines(tmp_path / "audit.csv", lambda rows: rows.pop(1))
    result = verify(str(tmp_path), KEY)
    assert (result.ok, result.file, result.line) == (False, "audit.csv", 2)


def test_torn_last_row_is_reported(tmp_path):
    write_trail(tmp_path, 3)
    with open(tmp_path / "audit.csv", "ab") as stream:
        stream.write(b"2026-01-01T00:00:00.000000+00:00,logout")
    result = verify(str(tmp_path), KEY)
    assert (result.ok, result.file) == (False, "audit.csv")


def test_empty_folder_verifies_with_no_rows(tmp_path):
    assert verify(str(tmp_path), KEY).ok and verify(str(tmp_path), KEY).rows == 0


def test_read_rows_newest_first_across_rotation_with_offset(tmp_path):
    audit = AuditLogger(str(tmp_path), KEY, max_file_size_mb=0.002, backup_count=50, buffer_size=10)
    for index in range(100):
        audit.log("room_joined", detail=str(index))
    audit.close()
    assert len(trail_names(str(tmp_path), "audit.csv")) >= 3
    rows = read_rows(str(tmp_path), limit=1000)
    assert [row["detail"] for row in rows] == [str(i) for i in range(99, -1, -1)]
    assert set(rows[0]) == {"ts", "event", "user", "ip", "target", "outcome", "detail"}
    page = read_rows(str(tmp_path), limit=5, offset=10)
    assert [row["detail"] for row in page] == ["89", "88", "87", "86", "85"]


def test_read_rows_filters_event_user_and_since(logger, tmp_path):
    logger.log("login_failed", user="=bob", detail="old")
    logger.log("login_success", user="ana", detail="old")
    time.sleep(0.01)
    cut = datetime.now(UTC)
    time.sleep(0.01)
    logger.log("login_success", user="=bob", detail="new")
    logger.log("login_success", user="ana", detail="new")
    logger.flush()
    folder = str(tmp_path)
    assert [r["detail"] for r in read_rows(folder, event="login_failed")] == ["old"]
    assert [r["user"] for r in read_rows(folder, user="=bob")] == ["'=bob", "'=bob"]
    assert [r["user"] for r in read_rows(folder, since=cut)] == ["ana", "'=bob"]
    assert read_rows(folder, event="login_success", user="ana", until=cut)[0]["detail"] == "old"


def test_rows_to_csv_keeps_formulas_neutralised(logger, tmp_path):
    logger.log("file_uploaded", target='=HYPERLINK("http://x","y")')
    logger.flush()
    text = rows_to_csv(read_rows(str(tmp_path)))
    header, row = list(csv.reader(text.splitlines()))
    assert header == ["ts", "event", "user", "ip", "target", "outcome", "detail"]
    assert row[4] == '\'=HYPERLINK("http://x","y")'


@pytest.fixture
def app(audit_app, monkeypatch):
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    return audit_app({"SECRET_KEY": "cli-secret"})


def test_cli_verify_succeeds_on_untouched_trail(app):
    for index in range(3):
        app.extensions["audit"].log("logout", detail=str(index))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "ok: 3 filas verificadas" in result.output


def test_cli_verify_fails_with_file_and_line(app, tmp_path):
    for index in range(3):
        app.extensions["audit"].log("logout", detail=str(index))
    app.extensions["audit"].flush()
    edit_lines(tmp_path / "audit.csv", change_cell_line_3)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "audit.csv, línea 3" in result.output


def change_cell_line_3(rows):
    rows[2][1] = "login_success"


def test_audit_key_overrides_secret_key(tmp_path, audit_app):
    app = audit_app({"SECRET_KEY": "s", "AUDIT_KEY": "audit-only"})
    app.extensions["audit"].log("logout")
    app.extensions["audit"].flush()
    assert verify(str(tmp_path), b"audit-only").ok
    assert not verify(str(tmp_path), b"s").ok


def test_without_audit_key_the_chain_uses_a_kept_key_never_the_session_key(
    tmp_path, audit_app, monkeypatch
):
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    app = audit_app({"SECRET_KEY": "solo-esta"})
    app.extensions["audit"].log("logout")
    app.extensions["audit"].flush()
    kept = (Path(app.config["INSTANCE_DIR"]) / "audit_key").read_text().strip()
    assert verify(str(tmp_path), kept.encode()).ok
    assert not verify(str(tmp_path), b"solo-esta").ok
