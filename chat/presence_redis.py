"""Membership in Redis, shared by every process behind the load balancer.

Keys (under a prefix): ``sockets:<user>`` the account's sids; ``online`` the accounts with a
socket; ``away`` sorted set account -> when its last socket went; ``room:<code>`` a room's
member accounts; ``rooms:<user>`` an account's rooms; ``host:<id>`` hash sid -> account of
the sockets a process holds; ``alive:<id>`` a key that expires unless its process beats;
``hosts`` the process ids. A process that dies without saying goodbye (crash, SIGKILL, even
SIGTERM: no disconnect handler runs) would otherwise keep its accounts "online" forever; the
next beat of any live process drops its sockets.
"""

from __future__ import annotations

import logging
import uuid

import redis

from chat.presence import Membership

log = logging.getLogger(__name__)

# A process beats every HEARTBEAT_SECONDS; one silent for HOST_TTL_SECONDS (three missed
# beats) is taken for dead, so a crash shows in presence within about 40 seconds.
HEARTBEAT_SECONDS = 10.0
HOST_TTL_SECONDS = 30

# Each script reads and writes in one step: two processes cannot interleave a connect and a
# disconnect, and sockets racing past the cap are refused, not counted.
# KEYS: sockets:<user>, host:<id>, online, away. ARGV: sid, user, cap.
_CONNECT = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
return redis.call('SCARD', KEYS[1])
"""
# The socket is gone: if it was the account's last, the account is offline and away.
# KEYS: host:<id>, sockets:<user>, online, away. ARGV: sid, user, now.
_DISCONNECT = """
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return 1
"""
# KEYS: room:<code>. ARGV: prefix, code.
_CLOSE = """
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('SREM', ARGV[1] .. 'rooms:' .. name, ARGV[2])
end
return redis.call('DEL', KEYS[1])
"""
# KEYS: away. ARGV: before.
_TAKE_AWAY = """
local names = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, name in ipairs(names) do redis.call('ZREM', KEYS[1], name) end
return names
"""
# KEYS: alive:<id>, host:<id>, hosts, online, away. ARGV: prefix, id, now.
# Does nothing if the host beat.
_PURGE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local pairs_ = redis.call('HGETALL', KEYS[2])
for i = 1, #pairs_, 2 do
  local sockets = ARGV[1] .. 'sockets:' .. pairs_[i + 1]
  if redis.call('SREM', sockets, pairs_[i]) == 1 and redis.call('SCARD', sockets) == 0 then
    redis.call('SREM', KEYS[4], pairs_[i + 1])
    redis.call('ZADD', KEYS[5], ARGV[3], pairs_[i + 1])
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return #pairs_ / 2
"""


class RedisMembership(Membership):
    """Membership in Redis; this process is `host_id` and must beat() to keep its sockets."""

    shared = True

    def __init__(self, url: str, prefix: str = "pichat:chat:") -> None:
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.host_id = uuid.uuid4().hex
        self._connect = self.redis.register_script(_CONNECT)
        self._disconnect = self.redis.register_script(_DISCONNECT)
        self._close = self.redis.register_script(_CLOSE)
        self._take_away = self.redis.register_script(_TAKE_AWAY)
        self._purge = self.redis.register_script(_PURGE)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _connect_keys(self, username: str) -> list[str]:
        return [self._key("sockets", username), self._key("host", self.host_id),
                self._key("online"), self._key("away")]

    def connect(self, sid: str, username: str, cap: int) -> int:
        return int(self._connect(keys=self._connect_keys(username), args=[sid, username, cap]))

    def disconnect(self, sid: str, username: str, now: float) -> bool:
        keys = [self._key("host", self.host_id), self._key("sockets", username),
                self._key("online"), self._key("away")]
        return bool(self._disconnect(keys=keys, args=[sid, username, now]))

    def sids(self, username: str) -> list[str]:
        return list(self.redis.smembers(self._key("sockets", username)))

    def online(self) -> list[str]:
        return sorted(self.redis.smembers(self._key("online")))

    def join(self, room: str, username: str) -> bool:
        return self._both("sadd", room, username)

    def leave(self, room: str, username: str) -> bool:
        return self._both("srem", room, username)

    def _both(self, command: str, room: str, username: str) -> bool:
        """Add to or remove from the room's members and the account's rooms, in one go."""
        with self.redis.pipeline() as pipe:
            getattr(pipe, command)(self._key("room", room), username)
            getattr(pipe, command)(self._key("rooms", username), room)
            changed, _ = pipe.execute()
        return bool(changed)

    def members(self, room: str) -> list[str]:
        return sorted(self.redis.smembers(self._key("room", room)))

    def rooms_of(self, username: str) -> set[str]:
        return set(self.redis.smembers(self._key("rooms", username)))

    def close(self, room: str) -> None:
        self._close(keys=[self._key("room", room)], args=[self.prefix, room])

    def take_away(self, before: float) -> list[str]:
        return list(self._take_away(keys=[self._key("away")], args=[before]))

    def restore(self, sockets: list[tuple[str, str]]) -> bool:
        if not sockets or self.redis.exists(self._key("host", self.host_id)):
            return False
        with self.redis.pipeline() as pipe:
            for sid, username in sockets:  # no account holds more sockets than all of them
                self._connect(keys=self._connect_keys(username),
                              args=[sid, username, len(sockets)], client=pipe)
            pipe.execute()
        return True

    def beat(self, now: float) -> bool:
        """Mark this process alive, then drop the sockets of processes that stopped beating."""
        try:
            self.redis.set(self._key("alive", self.host_id), 1, ex=HOST_TTL_SECONDS)
            self.redis.sadd(self._key("hosts"), self.host_id)
            purged = 0
            for host in self.redis.smembers(self._key("hosts")):
                keys = [self._key("alive", host), self._key("host", host), self._key("hosts"),
                        self._key("online"), self._key("away")]
                purged += self._purge(keys=keys, args=[self.prefix, host, now])
        except redis.RedisError as exc:
            # Members and messages fail loudly on their own; the beat just tries again.
            log.warning("chat presence heartbeat failed: %s", type(exc).__name__)
            return False
        return purged > 0
