"""Counting failed attempts in a window and the lockout they lead to.

Shared by the account lockout (security/login.py) and room passwords (chat/rooms.py), so
both count, lock and tell people how long to wait the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from security.clock import as_utc, utcnow


@dataclass(frozen=True)
class FailureCount:
    """Failures in the current window; `locked_until` is set when this failure hit the limit."""

    failures: int
    window_start: datetime | None
    locked_until: datetime | None = None


def count_failure(
    failures: int, window_start: datetime | None, now: datetime,
    limit: int, window: timedelta, lockout: timedelta,
) -> FailureCount:
    """Add one failure; a window older than `window` starts over, reaching `limit` locks."""
    start = as_utc(window_start)
    if start is None or now - start > window:
        start, failures = now, 0
    failures += 1
    if failures >= limit:
        return FailureCount(0, None, now + lockout)
    return FailureCount(failures, start)


def seconds_left(locked_until: datetime | None, now: datetime | None = None) -> int:
    """Whole seconds until a lockout ends (rounded up), 0 when not locked."""
    until = as_utc(locked_until)
    if until is None:
        return 0
    return max(0, int((until - (now or utcnow())).total_seconds() + 0.999))


def wait_message(seconds: int, what: str = "Demasiados intentos") -> str:
    """What a locked-out person reads: the reason and the minutes to wait (at least 1)."""
    minutes = max(1, (seconds + 59) // 60)
    return f"{what}. Inténtelo de nuevo en {minutes} min."
