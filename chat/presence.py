"""Who is online and who is in which room without history: in this process, or in Redis.

Membership is the account's, not the socket's: an account joins a room once and every
socket it has, or opens later, is in it. Sockets are tracked per account only to count
them (presence, the per-account cap, closing them when a session ends). An account whose
last socket went is noted as away; after ROOM_AWAY_MINUTES it leaves its rooms
(ChatState's sweep). Persistent rooms' memberships are in the database (chat/members.py);
these backends hold only the ephemeral ones, never on disk. With REDIS_URL set,
presence_redis keeps the same in Redis for every process.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class Membership(ABC):
    """Online accounts and ephemeral room membership; two backends implement it."""

    # Whether other processes share this backend; then beat() must run every few seconds.
    shared = False

    def beat(self, now: float) -> bool:
        """Keep this process's sockets alive; True when dead processes' sockets were dropped."""
        return False

    def restore(self, sockets: list[tuple[str, str]]) -> bool:
        """Count this process's (sid, username) sockets again if the backend lost them (a
        Redis restarted without persistence); True when it had."""
        return False

    @abstractmethod
    def connect(self, sid: str, username: str, cap: int) -> int:
        """Count a new socket of `username`: its number of sockets now (1: it came online),
        or 0 when it already holds `cap` (the socket is then not counted)."""

    @abstractmethod
    def disconnect(self, sid: str, username: str, now: float) -> bool:
        """Forget a socket; True when it was the account's last (it is away from `now`)."""

    @abstractmethod
    def sids(self, username: str) -> list[str]:
        """Every socket of an account, on any process sharing this backend."""

    @abstractmethod
    def online(self) -> list[str]:
        """Every account with a socket, sorted."""

    @abstractmethod
    def join(self, room: str, username: str) -> bool:
        """Make the account a member; True when it was not one before."""

    @abstractmethod
    def leave(self, room: str, username: str) -> bool:
        """End the account's membership; True when it was a member."""

    @abstractmethod
    def members(self, room: str) -> list[str]:
        """The room's member accounts, sorted."""

    @abstractmethod
    def rooms_of(self, username: str) -> set[str]:
        """The ephemeral rooms an account is in."""

    @abstractmethod
    def close(self, room: str) -> None:
        """Forget a room and every membership of it."""

    @abstractmethod
    def take_away(self, before: float) -> list[str]:
        """The accounts away since before `before`, each handed out once."""


class MemoryMembership(Membership):
    """Membership in this process's memory (one process, or tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[str, set[str]] = {}
        self._rooms: dict[str, set[str]] = {}
        self._user_rooms: dict[str, set[str]] = {}
        self._away: dict[str, float] = {}

    def connect(self, sid: str, username: str, cap: int) -> int:
        with self._lock:
            sockets = self._sockets.setdefault(username, set())
            if len(sockets) >= cap:
                return 0
            sockets.add(sid)
            self._away.pop(username, None)
            return len(sockets)

    def disconnect(self, sid: str, username: str, now: float) -> bool:
        with self._lock:
            sockets = self._sockets.get(username)
            if sockets is None or sid not in sockets:
                return False
            sockets.discard(sid)
            if sockets:
                return False
            del self._sockets[username]
            self._away[username] = now
            return True

    def sids(self, username: str) -> list[str]:
        with self._lock:
            return list(self._sockets.get(username, ()))

    def online(self) -> list[str]:
        with self._lock:
            return sorted(self._sockets)

    def join(self, room: str, username: str) -> bool:
        with self._lock:
            members = self._rooms.setdefault(room, set())
            if username in members:
                return False
            members.add(username)
            self._user_rooms.setdefault(username, set()).add(room)
            return True

    def leave(self, room: str, username: str) -> bool:
        with self._lock:
            members = self._rooms.get(room, set())
            if username not in members:
                return False
            members.discard(username)
            if not members:
                del self._rooms[room]
            self._discard_room(username, room)
            return True

    def _discard_room(self, username: str, room: str) -> None:
        rooms = self._user_rooms.get(username, set())
        rooms.discard(room)
        if not rooms:
            self._user_rooms.pop(username, None)

    def members(self, room: str) -> list[str]:
        with self._lock:
            return sorted(self._rooms.get(room, ()))

    def rooms_of(self, username: str) -> set[str]:
        with self._lock:
            return set(self._user_rooms.get(username, ()))

    def close(self, room: str) -> None:
        with self._lock:
            for username in self._rooms.pop(room, set()):
                self._discard_room(username, room)

    def take_away(self, before: float) -> list[str]:
        with self._lock:
            gone = [name for name, since in self._away.items() if since < before]
            for name in gone:
                del self._away[name]
            return gone
