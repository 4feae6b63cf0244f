"""AUDIT_SYSLOG: a copy of every audit row sent to syslog, off the machine if wanted.

Someone who can edit LOG_DIR can also delete it; a copy held by another machine's
syslog cannot be taken back. The flush hands each written batch to a sender thread
through a bounded queue, so a slow or dead syslog never blocks the caller; the stdlib
``SysLogHandler`` (created in that thread: a TCP connect may take long) sends one
message per row. A failure is logged and never touches the file rows.
"""

import logging
import queue
import re
import socket
import threading
from logging.handlers import SysLogHandler

_log = logging.getLogger(__name__)
_NETWORK = re.compile(r"(udp|tcp)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")
# Batches waiting for a slow syslog: beyond this the newest are dropped (and logged)
# rather than letting memory grow; the file keeps every row anyway.
MAX_QUEUED_BATCHES = 1000
# At close, how long the last batches may take to leave before the sender is abandoned.
CLOSE_TIMEOUT = 2.0
_TAG = "pichat-audit: "

Address = str | tuple[str, int]


def parse_address(value: str) -> tuple[Address, int]:
    """Return the SysLogHandler (address, socktype) of '/dev/log', 'udp://h:p' or 'tcp://h:p'."""
    if value.startswith("/"):
        return value, socket.SOCK_DGRAM
    match = _NETWORK.fullmatch(value)
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ValueError(
            f"AUDIT_SYSLOG must be /path, udp://host:port or tcp://host:port: {value!r}"
        )
    kind = socket.SOCK_DGRAM if match.group(1) == "udp" else socket.SOCK_STREAM
    return (match.group(2).strip("[]"), int(match.group(3))), kind


class SyslogCopy:
    """Sends written audit rows to syslog from a background thread."""

    def __init__(self, value: str) -> None:
        self.address, self.socktype = parse_address(value)
        self._start()

    def send(self, data: bytes) -> None:
        """Queue the CSV rows in ``data`` for syslog; never blocks."""
        if not data:
            return
        if not self._thread.is_alive():
            self._start()  # closed earlier: later rows still get their copy
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            _log.error("audit syslog copy is behind: a batch of rows was not sent")

    def close(self) -> None:
        """Send what is queued (for up to CLOSE_TIMEOUT) and stop the thread."""
        try:
            self._queue.put(None, timeout=CLOSE_TIMEOUT)
        except queue.Full:
            _log.error("audit syslog copy is stuck: queued rows were not sent at close")
            return
        self._thread.join(CLOSE_TIMEOUT)

    def forget_after_fork(self) -> None:
        """Start a fresh sender in a forked child (threads do not survive fork)."""
        self._start()

    def _start(self) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(MAX_QUEUED_BATCHES)
        self._thread = threading.Thread(target=self._run, name="audit-syslog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        handler: SysLogHandler | None = None
        while (data := self._queue.get()) is not None:
            try:
                handler = handler or self._handler()
                for line in data.decode("utf-8").split("\r\n"):
                    if line:
                        handler.emit(_record(line))
            except Exception:
                # The rows are on disk already; drop this connection and retry on the next.
                _log.exception("audit syslog copy failed for one batch")
                if handler is not None:
                    handler.close()
                handler = None
        if handler is not None:
            handler.close()

    def _handler(self) -> SysLogHandler:
        handler = _RaisingSysLogHandler(
            self.address, facility=SysLogHandler.LOG_AUTHPRIV, socktype=self.socktype
        )
        handler.setFormatter(logging.Formatter(_TAG + "%(message)s"))
        return handler


class _RaisingSysLogHandler(SysLogHandler):
    """A SysLogHandler whose send errors reach the sender (the default prints them)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        raise


def _record(line: str) -> logging.LogRecord:
    return logging.LogRecord("pichat.audit", logging.INFO, __file__, 0, line, None, None)
