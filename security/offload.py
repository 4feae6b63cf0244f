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
    # Looked up, not imported: importing either framework must not be a side effect here.
    eventlet_patcher = sys.modules.get("eventlet.patcher")
    if eventlet_patcher is not None and eventlet_patcher.is_monkey_patched("thread"):
        from eventlet import tpool

        return tpool.execute(func, *args)
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched("threading"):
        from gevent import get_hub

        return get_hub().threadpool.apply(func, args)
    return func(*args)
