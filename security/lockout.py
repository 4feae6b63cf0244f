"""Counting failed attempts in a window: shared by the account lockout and room passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from security.models import as_utc


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
