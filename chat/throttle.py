"""Pure rate limiting for sockets: a token bucket, a flood detector, a per-key cooldown."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

Clock = Callable[[], float]


class TokenBucket:
    """Allow `rate` events per second on average, with bursts of up to `burst`."""

    __slots__ = ("rate", "burst", "clock", "tokens", "stamp")

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.stamp = clock()

    def take(self) -> bool:
        """Spend one token; False when none is left."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class FloodDetector:
    """Counts refusals in a sliding window; a client past the limit is not a person typing."""

    __slots__ = ("limit", "window", "clock", "_refusals")

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        # Made on the first refusal: most sockets never get one, and thousands are held idle.
        self._refusals: deque[float] | None = None

    def refused(self) -> bool:
        """Record one refusal; True once `limit` refusals fall within `window` seconds."""
        now = self.clock()
        if self._refusals is None:
            self._refusals = deque()
        self._refusals.append(now)
        while self._refusals[0] <= now - self.window:
            self._refusals.popleft()
        return len(self._refusals) >= self.limit


class Cooldown:
    """At most one action per key every `seconds`."""

    # Past this many keys, expired ones are dropped so idle keys do not pile up.
    PRUNE_AT = 1024

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._last: dict[Hashable, float] = {}

    def ready(self, key: Hashable) -> bool:
        """True (and the cooldown restarts) when `key` last acted `seconds` ago or never."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.seconds:
            return False
        if len(self._last) >= self.PRUNE_AT:
            self._last = {k: t for k, t in self._last.items() if now - t < self.seconds}
        self._last[key] = now
        return True


class AccountBudget:
    """`per_minute` actions per account across all its sockets (and processes, with Redis).

    Counted in the limits library's storage (Redis INCR, or a locked dict in memory), so
    sockets opened side by side share one budget instead of each having their own.
    """

    def __init__(self, name: str, per_minute: int, storage_uri: str) -> None:
        self.name = name
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = FixedWindowRateLimiter(storage_from_string(storage_uri))

    def take(self, account: str) -> bool:
        """Spend one action of `account`; False when its minute's budget is gone."""
        return self._limiter.hit(self._item, self.name, account)
