"""AuditLogger: a cheap log() into an in-memory buffer, flushed in batches to the trail.

log() only appends a raw tuple under a lock; neutralising, HMAC and CSV formatting
happen at flush time, in whichever thread flushes. Flushes happen when the buffer is
full, on a timer (a daemon threading.Thread waiting on an Event, which eventlet turns
into a green thread), at once for security events, and at shutdown (see shutdown.py).
How several processes share one file, one seq and one chain is explained in trail.py;
seq and chain are assigned at flush, under the trail's lock, never in log().
"""

import logging
import os
import threading
import time
import weakref

from logging_ import shutdown
from logging_.chain import RawRow, RowEncoder
from logging_.events import AUDIT_EVENTS
from logging_.syslog_copy import SyslogCopy
from logging_.trail import TrailFile

# Written synchronously inside log(): a crash right after one must not lose it.
SECURITY_EVENTS = frozenset(
    {
        "login_failed",
        "account_locked",
        "file_deleted",
        "file_infected",
        "user_updated",
        "access_denied",
        "csrf_rejected",
        "setup_completed",
    }
)
# If the disk keeps failing, rows wait in memory up to this many, then the oldest go:
# unbounded growth would take the whole server down with the trail.
MAX_PENDING_ROWS = 100_000

_log = logging.getLogger(__name__)
_KNOWN_EVENTS = frozenset(AUDIT_EVENTS)


class AuditLogger:
    """Buffered, rotating, tamper-evident CSV audit trail."""

    def __init__(
        self,
        logs_dir: str,
        key: bytes,
        max_file_size_mb: float = 10,
        backup_count: int = 5,
        buffer_size: int = 100,
        flush_interval: float = 1.0,
        filename: str = "audit.csv",
        fsync: bool = False,
        syslog: str | None = None,
    ) -> None:
        os.makedirs(logs_dir, exist_ok=True)
        self.logs_dir = logs_dir
        self.filename = filename
        self._buffer_size = max(1, buffer_size)
        self._interval = flush_interval
        self._trail = TrailFile(
            logs_dir,
            filename,
            int(max_file_size_mb * 1024 * 1024),
            backup_count,
            fsync,
            RowEncoder(key),
        )
        self._syslog = SyslogCopy(syslog) if syslog else None
        self._closed = False
        self._start()
        shutdown.register(self)

    def log(
        self,
        event: str,
        user: str = "",
        ip: str = "",
        target: str = "",
        outcome: str = "ok",
        detail: str = "",
    ) -> None:
        """Queue one audit row; security events are written before this returns."""
        if event not in _KNOWN_EVENTS:
            # A name the admin filter does not offer would be a row nobody can find.
            raise ValueError(f"unknown audit event {event!r}: add it to logging_/events.py")
        row = (time.time_ns(), event, user, ip, target, outcome, detail)
        with self._lock:
            self._buf.append(row)
            full = len(self._buf) >= self._buffer_size
        if full or event in SECURITY_EVENTS:
            self._flush_quietly()

    def flush(self, lock_timeout: float = -1) -> bool:
        """Write every buffered row; False if the locks were not free within lock_timeout."""
        if not self._flush_lock.acquire(timeout=lock_timeout):
            return False
        try:
            if not self._lock.acquire(timeout=lock_timeout):
                return False
            rows, self._buf = self._buf, []
            self._lock.release()
            if rows:
                self._write(rows)
            return True
        finally:
            self._flush_lock.release()

    def close(self) -> None:
        """Flush, stop the timer and close the files; later log() calls write through."""
        if self._closed:
            return
        self._closed = True
        self._buffer_size = 1
        self._stop.set()
        try:
            self.flush()
        finally:
            with self._flush_lock:
                self._trail.close()
            if self._syslog is not None:
                self._syslog.close()
            shutdown.unregister(self)

    def after_fork_in_child(self) -> None:
        """Start afresh in a forked child: the parent owns the rows it buffered."""
        self._trail.forget_after_fork()
        if self._syslog is not None:
            self._syslog.forget_after_fork()
        if not self._closed:
            self._start()

    def _start(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._buf: list[RawRow] = []
        self._stop = threading.Event()
        # At exit shutdown.py flushes every live logger; the finalizer is for GC only.
        weakref.finalize(self, _release, self._stop, self._trail, self._syslog).atexit = False
        thread = threading.Thread(
            target=_run_timer,
            args=(weakref.ref(self), self._stop, self._interval),
            name="audit-flush",
            daemon=True,
        )
        thread.start()

    def _write(self, rows: list[RawRow]) -> None:
        try:
            written = self._trail.append(rows)
        except BaseException:
            with self._lock:
                self._buf[:0] = rows
                del self._buf[:-MAX_PENDING_ROWS]
            raise
        if self._syslog is not None:
            self._syslog.send(written)

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except OSError:
            _log.exception("audit trail write failed; rows kept in memory for a retry")


def _release(stop: threading.Event, trail: TrailFile, syslog: SyslogCopy | None) -> None:
    """Stop the timer and close the files of a logger that was garbage-collected."""
    stop.set()
    trail.close()
    if syslog is not None:
        syslog.close()


def _run_timer(ref: "weakref.ref[AuditLogger]", stop: threading.Event, interval: float) -> None:
    """Flush every interval until stopped or the logger is garbage-collected."""
    while not stop.wait(interval):
        logger = ref()
        if logger is None:
            return
        try:
            logger.flush()
        except Exception:
            # The timer is the only flusher of a quiet server: it must survive any error.
            _log.exception("audit trail timer flush failed")
        del logger
