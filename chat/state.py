"""Per-app chat state: the membership backend, this process's connections, the throttles."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from socketio import Server

from chat.presence import Membership
from chat.presence_redis import HEARTBEAT_SECONDS
from chat.throttle import AccountBudget, Clock, Cooldown, FloodDetector, TokenBucket

log = logging.getLogger(__name__)

# A client refused this many times within the window is a script, not a person: it is
# disconnected so it stops costing the event loop a refusal per frame.
FLOOD_REFUSALS = 100
FLOOD_WINDOW_SECONDS = 10.0
# Typing notices fan out to a whole room; one per user per room every 2 s is enough.
TYPING_COOLDOWN_SECONDS = 2.0


@dataclass(slots=True)
class Connection:
    """One socket of this process: whose it is, its event budget, when its session was checked."""

    sid: str
    username: str
    bucket: TokenBucket
    flood: FloodDetector
    session_checked_at: float
    # Disconnected for flooding: its frames still buffered are dropped unread.
    cut_off: bool = False


class ChatState:
    """What the chat keeps for one app (app.extensions["chat"])."""

    def __init__(
        self,
        membership: Membership,
        server: Server,
        events_per_second: int,
        events_burst: int,
        room_attempts: AccountBudget,
        max_rooms_per_user: int,
        max_sockets_per_user: int,
        away_seconds: float,
        presence_batch_seconds: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.membership = membership
        # Room passwords an account may try (create or join) per minute: each costs a hash.
        self.room_attempts = room_attempts
        self.max_rooms_per_user = max_rooms_per_user
        # Every socket has its own event budget: the cap keeps one account's total bounded.
        self.max_sockets_per_user = max_sockets_per_user
        self.away_seconds = away_seconds
        self.presence_batch_seconds = presence_batch_seconds
        self.server = server
        self.events_per_second = events_per_second
        self.events_burst = events_burst
        self.clock = clock
        self.typing = Cooldown(TYPING_COOLDOWN_SECONDS, self.now)
        self._connections: dict[str, Connection] = {}
        # Room code -> id of a persistent room (None: ephemeral), noted when a socket enters,
        # so sending a message needs no database read to know whether to keep it.
        self.stored_rooms: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self._housekeeping = False
        self._presence_due = False

    def now(self) -> float:
        """The throttles' time in seconds (replace `clock` to drive it in tests)."""
        return self.clock()

    def attach(self, sid: str, username: str) -> Connection:
        """Start tracking a socket that was just accepted."""
        connection = Connection(
            sid,
            username,
            TokenBucket(self.events_per_second, self.events_burst, self.now),
            FloodDetector(FLOOD_REFUSALS, FLOOD_WINDOW_SECONDS, self.now),
            self.now(),
        )
        with self._lock:
            self._connections[sid] = connection
        return connection

    def detach(self, sid: str) -> Connection | None:
        """Stop tracking a socket; None when it was never accepted here."""
        with self._lock:
            return self._connections.pop(sid, None)

    def local_sockets(self) -> list[tuple[str, str]]:
        """(sid, username) of every socket this process holds."""
        with self._lock:
            return [(c.sid, c.username) for c in self._connections.values()]

    def connection(self, sid: str) -> Connection | None:
        """The tracked socket, or None."""
        with self._lock:
            return self._connections.get(sid)

    def in_room(self, sid: str, room: str) -> bool:
        """Whether this process's socket `sid` is in the Socket.IO room `room`.

        Read from python-socketio's room table (room -> bidict of sids), an O(1) lookup: its
        public ``rooms(sid)`` walks every room, one per connected user.
        """
        return sid in self.server.manager.rooms.get("/", {}).get(room, ())

    def presence_changed(self) -> None:
        """Broadcast the online list, once per PRESENCE_BATCH_SECONDS however many changed."""
        if self.presence_batch_seconds <= 0:
            self._publish_presence()
            return
        with self._lock:
            if self._presence_due:
                return
            self._presence_due = True
        self.server.start_background_task(self._publish_presence_later)

    def _publish_presence_later(self) -> None:
        self.server.sleep(self.presence_batch_seconds)
        with self._lock:
            self._presence_due = False
        self._publish_presence()

    def _publish_presence(self) -> None:
        self.server.emit("presence", {"online": self.membership.online()})

    def start_housekeeping(self, task: Callable[[], None]) -> None:
        """Run `task` now and every HEARTBEAT_SECONDS (started once per app); a failed run
        (Redis down, say) is logged and the next one comes as usual."""
        with self._lock:
            if self._housekeeping:
                return
            self._housekeeping = True
        self.server.start_background_task(self._housekeep_forever, task)

    def _housekeep_forever(self, task: Callable[[], None]) -> None:
        while True:
            try:
                task()
            except Exception:
                log.exception("chat housekeeping failed")
            self.server.sleep(HEARTBEAT_SECONDS)

    def has_sockets(self, app: Flask, username: str, **_: object) -> bool:
        """Receiver of security.socket_connected: whether `username` has a socket (any process)."""
        return bool(self.membership.sids(username))

    def end_user_sockets(self, app: Flask, username: str, **_: object) -> None:
        """Receiver of security.session_ended: disconnect every socket of `username` now.

        The sids come from the membership backend, so with REDIS_URL they include sockets
        on other processes; python-socketio sends those disconnects through the message
        queue to the process that holds them.
        """
        # A fresh app context: the disconnect handlers run nested in this call and must
        # not see the caller's logged-in user (an administrator disabling someone).
        with app.app_context():
            for sid in self.membership.sids(username):
                self.server.disconnect(sid)
