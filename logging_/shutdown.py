"""Flush every live AuditLogger at exit, on SIGTERM/SIGINT, and reset them after fork.

The signal handlers flush and then hand the signal to whatever handler was there
before (or to the default action, so SIGTERM still terminates the process). A handler
runs in the main thread between two bytecodes, possibly while that thread holds a
logger's lock; flushing with a lock timeout keeps shutdown from deadlocking then.
"""

import atexit
import logging
import os
import signal
import weakref
from types import FrameType
from typing import Any

_log = logging.getLogger(__name__)
_live: "weakref.WeakSet[Any]" = weakref.WeakSet()
_state = {"atexit": False, "signals": False}
_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Long enough for another thread's flush to finish, short enough that a stuck lock
# cannot keep a terminating process alive.
_SIGNAL_LOCK_TIMEOUT = 2.0


def register(logger: Any) -> None:
    """Track ``logger`` for shutdown flushing and install the hooks once."""
    _live.add(logger)
    if not _state["atexit"]:
        atexit.register(flush_all)
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _state["atexit"] = True
    if not _state["signals"]:
        _state["signals"] = _install_signal_handlers()


def unregister(logger: Any) -> None:
    """Stop tracking a closed logger."""
    _live.discard(logger)


def flush_all(lock_timeout: float = -1) -> None:
    """Flush every live logger, logging (not raising) a failure."""
    for logger in list(_live):
        try:
            if not logger.flush(lock_timeout=lock_timeout):
                _log.error("audit trail not flushed at shutdown: lock busy")
        except OSError:
            _log.exception("audit trail flush failed at shutdown")


def _install_signal_handlers() -> bool:
    """Chain our handler in front of the current ones; False outside the main thread."""
    # signal.signal itself knows the real main thread (eventlet's patched threading
    # module does not), so asking it is the test.
    try:
        for signum in _SIGNALS:
            previous = signal.getsignal(signum)
            if getattr(previous, "flushes_audit", False):
                continue
            signal.signal(signum, _make_handler(previous))
    except ValueError:
        return False
    return True


def _make_handler(previous: Any):
    def handler(signum: int, frame: FrameType | None) -> None:
        flush_all(lock_timeout=_SIGNAL_LOCK_TIMEOUT)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    handler.flushes_audit = True  # type: ignore[attr-defined]
    return handler


def _after_fork_in_child() -> None:
    for logger in list(_live):
        logger.after_fork_in_child()
