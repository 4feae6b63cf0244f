"""Counting attempts at a secret in a window, and the lockout they lead to.

Shared by the account lockout (security/login.py) and room passwords (chat/rooms.py), so
both count, lock and tell people how long to wait the same way.

Attempts are counted by the database before the password is hashed, in one statement
(``SET attempts = attempts + 1 ... RETURNING attempts``): requests sent at the same instant
each get their own number, so the ones past the limit are refused without a hash and the
one that reaches it locks. Counting in Python after the hash let concurrent guesses read
the same stale count and never lock. The count happens only while the lock is open: no
row back means another request locked it meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_

from security.clock import as_utc, utcnow

# Five guesses per window, then a lockout: slows online guessing to 480 tries a day.
MAX_ATTEMPTS = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class AttemptColumns:
    """Where a table keeps its attempt count, when the window began and the lockout's end."""

    attempts: Any
    started: Any
    locked_until: Any

    def counted(self, now: datetime) -> dict[str, Any]:
        """SET values that count one attempt atomically; a stale window restarts at 1."""
        stale = or_(self.started.is_(None), self.started < now - WINDOW)
        return {self.attempts.key: case((stale, 1), else_=self.attempts + 1),
                self.started.key: case((stale, now), else_=self.started)}

    def open_at(self, now: datetime) -> Any:
        """WHERE clause of a count: only while not locked. A request that read the row before
        another one locked it (and reset the count) must not start a fresh count."""
        return or_(self.locked_until.is_(None), self.locked_until <= now)

    def locked(self, now: datetime) -> dict[str, Any]:
        """SET values of a lockout that starts now, with a fresh count after it."""
        return {self.locked_until.key: now + LOCKOUT, self.attempts.key: 0,
                self.started.key: None}

    def cleared(self) -> dict[str, Any]:
        """SET values after the right password: no count, no lockout."""
        return {self.attempts.key: 0, self.started.key: None, self.locked_until.key: None}


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
