"""The scan queue: pending files until a verdict, retried with backoff, rescanned on updates.

No verdict is never "clean": a scanner that is down, errs or times out leaves the file
pending with a later ``next_scan_at`` (a scan limit reached is a verdict: blocked).
Verdicts are written with a conditional UPDATE on the expected status, so two scanners
(the worker and an inline scan, or two processes) never alert twice for one file.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, or_, select, update

from extensions import db, socketio
from logging_ import audit
from nas import signals
from nas.models import CLEAN, INFECTED, PENDING, StoredFile
from nas.scan_result import ScannerUnavailable, ScanResult
from nas.state import nas_state
from security.clock import utcnow
from security.offload import run_off_loop

log = logging.getLogger(__name__)

# A file that was clean under yesterday's signatures is rescanned for this long after upload.
RESCAN_WINDOW = timedelta(days=7)
# Rescans per pass: after a signature update, new uploads must not wait behind a week of files.
RESCAN_BATCH = 20
# Retries double up to this many retry periods: a long outage costs few attempts, and a
# daemon that is back is still noticed within minutes.
MAX_BACKOFF_FACTOR = 8


def queue_scan(file_id: str | None = None) -> int:
    """Make one pending file (or every one) due now and have it scanned; return how many.

    The one way in for new uploads and the administrator's rescan: the background worker
    is woken, or (NAS_SCAN_INLINE, for tests) the scan runs before this returns.
    """
    due_now = update(StoredFile).where(StoredFile.status == PENDING, StoredFile.missing.is_(False))
    if file_id is not None:
        due_now = due_now.where(StoredFile.id == file_id)
    queued = db.session.execute(due_now.values(next_scan_at=utcnow())).rowcount
    db.session.commit()
    if current_app.config["NAS_SCAN_INLINE"]:
        scan_pending()
    else:
        nas_state().worker.wake()
    return queued


def scan_pass() -> bool:
    """One pass of the worker: due pending files first, then rescans; True when more wait."""
    scan_pending()
    return rescan_outdated() >= RESCAN_BATCH


def scan_pending(now: datetime | None = None) -> int:
    """Scan the pending files that are due, stopping at the first without a verdict."""
    now = now or utcnow()
    due = select(StoredFile.id).where(
        StoredFile.status == PENDING,
        StoredFile.missing.is_(False),
        or_(StoredFile.next_scan_at.is_(None), StoredFile.next_scan_at <= now),
    )
    return _scan_each(due.order_by(StoredFile.uploaded_at), PENDING, now)


def rescan_outdated(now: datetime | None = None, limit: int = RESCAN_BATCH) -> int:
    """Rescan up to ``limit`` recent clean files passed by older signatures or another engine."""
    now = now or utcnow()
    scanner = nas_state().scanner
    try:
        version = scanner.version()
    except ScannerUnavailable as exc:
        log.warning("Scanner unavailable for the version check: %s", exc)
        return 0
    outdated = select(StoredFile.id).where(
        StoredFile.status == CLEAN,
        StoredFile.missing.is_(False),
        StoredFile.uploaded_at >= now - RESCAN_WINDOW,
        or_(
            StoredFile.scan_version.is_(None),
            StoredFile.scan_version != version,
            StoredFile.scan_engine != scanner.name,
        ),
    )
    return _scan_each(outdated.order_by(StoredFile.uploaded_at).limit(limit), CLEAN, now)


def scan_file(file_id: str, expected: str = PENDING, now: datetime | None = None) -> bool:
    """Scan one file and record the verdict; return False when there is none (retry later)."""
    now = now or utcnow()
    state = nas_state()
    path = state.quarantine.path_for(file_id)
    if not os.path.exists(path):
        _flag_missing(file_id)
        return True
    try:
        scanner = state.scanner
        result = (run_off_loop(scanner.scan_file, path) if scanner.blocks_loop
                  else scanner.scan_file(path))
    except ScannerUnavailable as exc:
        log.warning("No verdict for file %s: %s", file_id, exc)
        if expected == PENDING:
            _schedule_retry(file_id, now)
        return False
    _record_verdict(file_id, expected, result, now)
    return True


def retry_delay(attempts: int) -> timedelta:
    """How long a file waits after its ``attempts``-th failed scan."""
    factor = min(2 ** max(attempts - 1, 0), MAX_BACKOFF_FACTOR)
    return timedelta(seconds=current_app.config["SCAN_RETRY_SECONDS"] * factor)


def _scan_each(query: Select[tuple[str]], expected: str, now: datetime) -> int:
    file_ids = list(db.session.scalars(query))
    # End the read transaction: a scan may take seconds and must not hold the database.
    db.session.commit()
    done = 0
    for file_id in file_ids:
        if not scan_file(file_id, expected, now):
            break
        done += 1
        socketio.sleep(0)  # the built-in scanner never yields: let other clients run between files
    return done


def _record_verdict(file_id: str, expected: str, result: ScanResult, now: datetime) -> None:
    changed = db.session.execute(
        update(StoredFile)
        .where(StoredFile.id == file_id, StoredFile.status == expected)
        .values(
            status=CLEAN if result.clean else INFECTED,
            signature=result.signature,
            scan_engine=result.engine,
            scan_version=result.version,
            scanned_at=now,
            next_scan_at=None,
        )
    ).rowcount
    db.session.commit()
    if not changed:
        return  # deleted meanwhile, or another scanner recorded it first
    record = db.session.get(StoredFile, file_id)
    app = current_app._get_current_object()
    signals.file_status_changed.send(app, status=record.status_json())
    if not result.clean:
        _alert_infected(app, record)


def _alert_infected(app: object, record: StoredFile) -> None:
    """Audit a blocked file and tell whoever listens (chat alerts the administrators)."""
    audit(
        "file_infected",
        target=record.id,
        outcome="blocked",
        detail=f"{record.signature} ({record.scan_engine} {record.scan_version}): "
        f"{record.display_name}",
        user=record.uploaded_by,
    )
    signals.file_infected.send(app, alert=record.infected_alert())


def _schedule_retry(file_id: str, now: datetime) -> None:
    record = db.session.get(StoredFile, file_id)
    if record is None or record.status != PENDING:
        return
    record.scan_attempts += 1
    record.next_scan_at = now + retry_delay(record.scan_attempts)
    db.session.commit()


def _flag_missing(file_id: str) -> None:
    log.error("File %s vanished from quarantine; flagged missing", file_id)
    db.session.execute(update(StoredFile).where(StoredFile.id == file_id).values(missing=True))
    db.session.commit()
