"""Running blocking work (Argon2, hashing a file) off the event loop.

Under eventlet or gevent every request and socket shares one OS thread: a call that holds
the CPU or waits on disk freezes them all. The frameworks keep a pool of real threads for
such calls; outside them (tests, the CLI) the call simply runs here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_off_loop(func: Callable[..., T], *args: object) -> T:
    """Run `func(*args)` in the async framework's OS thread pool when one is active."""
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None and eventlet.patcher.is_monkey_patched("thread"):
        from eventlet import tpool

        return tpool.execute(func, *args)
    gevent = sys.modules.get("gevent")
    if gevent is not None and gevent.monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(func, args)
    return func(*args)
