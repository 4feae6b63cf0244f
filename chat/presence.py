"""Who is in which room, socket by socket: in this process, or in Redis shared by all.

Membership is kept per socket (sid -> username) because one person may have several
tabs; a user is a member while any of their sockets is. Presence is membership of the
lobby, which every connected socket joins. With REDIS_URL set, presence_redis keeps the
same in Redis for every process.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

from chat import LOBBY


class Membership(ABC):
    """Room membership by socket; the two backends implement the five primitives."""

    # Whether other processes share this backend; then beat() must run every few seconds.
    shared = False

    def beat(self) -> bool:
        """Keep this process's sockets alive; True when dead processes' sockets were dropped."""
        return False

    @abstractmethod
    def join(self, room: str, sid: str, username: str) -> bool:
        """Put a socket in a room; True when its user was not in the room before."""

    @abstractmethod
    def leave(self, room: str, sid: str, username: str) -> bool:
        """Take a socket out of a room; True when its user has no socket left there."""

    @abstractmethod
    def rooms_of(self, sid: str) -> set[str]:
        """The rooms a socket is in."""

    @abstractmethod
    def sockets(self, room: str) -> dict[str, str]:
        """Every socket in a room, sid -> username."""

    @abstractmethod
    def close(self, room: str) -> None:
        """Forget a room and take every socket out of it."""

    def members(self, room: str) -> list[str]:
        """The usernames in a room, sorted."""
        return sorted(set(self.sockets(room).values()))

    def online(self) -> list[str]:
        """Every connected username, sorted."""
        return self.members(LOBBY)

    def sids(self, username: str) -> list[str]:
        """Every socket of a user, on any process sharing this backend."""
        return [sid for sid, name in self.sockets(LOBBY).items() if name == username]

    def is_member(self, room: str, sid: str) -> bool:
        """Whether the socket is in the room."""
        return room in self.rooms_of(sid)


class MemoryMembership(Membership):
    """Membership in this process's memory (one process, or tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, str]] = {}
        self._sid_rooms: dict[str, set[str]] = {}

    def join(self, room: str, sid: str, username: str) -> bool:
        with self._lock:
            sockets = self._rooms.setdefault(room, {})
            was_in = username in sockets.values()
            sockets[sid] = username
            self._sid_rooms.setdefault(sid, set()).add(room)
            return not was_in

    def leave(self, room: str, sid: str, username: str) -> bool:
        with self._lock:
            sockets = self._rooms.get(room, {})
            if sockets.pop(sid, None) is None:
                return False
            if not sockets:
                del self._rooms[room]
            self._sid_rooms.get(sid, set()).discard(room)
            if not self._sid_rooms.get(sid):
                self._sid_rooms.pop(sid, None)
            return username not in sockets.values()

    def rooms_of(self, sid: str) -> set[str]:
        with self._lock:
            return set(self._sid_rooms.get(sid, ()))

    def sockets(self, room: str) -> dict[str, str]:
        with self._lock:
            return dict(self._rooms.get(room, {}))

    def close(self, room: str) -> None:
        with self._lock:
            for sid in self._rooms.pop(room, {}):
                self._sid_rooms.get(sid, set()).discard(room)
