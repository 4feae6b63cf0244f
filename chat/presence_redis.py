"""Membership in Redis, shared by every process behind the load balancer.

Keys (under a prefix): ``room:<code>`` hash sid -> username; ``sid:<sid>`` set of the
socket's rooms; ``host:<id>`` set of the sockets a process holds; ``alive:<id>`` a key
that expires unless its process beats; ``hosts`` the process ids. A process that dies
without saying goodbye (crash, SIGKILL, even SIGTERM: no disconnect handler runs) would
otherwise stay "online" forever; the next beat of any live process drops its sockets.
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

# Each script reads and writes in one step, so two processes cannot interleave a join
# and a leave and leave the member list wrong.
_JOIN = """
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('SADD', KEYS[3], ARGV[1])
local names = redis.call('HVALS', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
for _, name in ipairs(names) do if name == ARGV[3] then return 0 end end
return 1
"""
_LEAVE = """
if redis.call('SREM', KEYS[2], ARGV[2]) == 0 then return 0 end
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
redis.call('HDEL', KEYS[1], ARGV[1])
for _, name in ipairs(redis.call('HVALS', KEYS[1])) do if name == ARGV[3] then return 0 end end
return 1
"""
_CLOSE = """
for _, sid in ipairs(redis.call('HKEYS', KEYS[1])) do
  redis.call('SREM', ARGV[1] .. sid, ARGV[2])
end
return redis.call('DEL', KEYS[1])
"""
# KEYS: alive:<id>, host:<id>, hosts. ARGV: prefix, id. Does nothing if the host beat.
_PURGE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local sids = redis.call('SMEMBERS', KEYS[2])
for _, sid in ipairs(sids) do
  local rooms_key = ARGV[1] .. 'sid:' .. sid
  for _, room in ipairs(redis.call('SMEMBERS', rooms_key)) do
    redis.call('HDEL', ARGV[1] .. 'room:' .. room, sid)
  end
  redis.call('DEL', rooms_key)
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return #sids
"""


class RedisMembership(Membership):
    """Membership in Redis; this process is `host_id` and must beat() to keep its sockets."""

    shared = True

    def __init__(self, url: str, prefix: str = "pichat:chat:") -> None:
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.host_id = uuid.uuid4().hex
        self._join = self.redis.register_script(_JOIN)
        self._leave = self.redis.register_script(_LEAVE)
        self._close = self.redis.register_script(_CLOSE)
        self._purge = self.redis.register_script(_PURGE)

    def _keys(self, room: str, sid: str) -> list[str]:
        p = self.prefix
        return [f"{p}room:{room}", f"{p}sid:{sid}", f"{p}host:{self.host_id}"]

    def join(self, room: str, sid: str, username: str) -> bool:
        return bool(self._join(keys=self._keys(room, sid), args=[sid, room, username]))

    def leave(self, room: str, sid: str, username: str) -> bool:
        return bool(self._leave(keys=self._keys(room, sid), args=[sid, room, username]))

    def rooms_of(self, sid: str) -> set[str]:
        return set(self.redis.smembers(f"{self.prefix}sid:{sid}"))

    def sockets(self, room: str) -> dict[str, str]:
        return self.redis.hgetall(f"{self.prefix}room:{room}")

    def close(self, room: str) -> None:
        self._close(keys=[f"{self.prefix}room:{room}"], args=[f"{self.prefix}sid:", room])

    def beat(self) -> bool:
        """Mark this process alive, then drop the sockets of processes that stopped beating."""
        p = self.prefix
        try:
            self.redis.set(f"{p}alive:{self.host_id}", 1, ex=HOST_TTL_SECONDS)
            self.redis.sadd(f"{p}hosts", self.host_id)
            purged = 0
            for host in self.redis.smembers(f"{p}hosts"):
                keys = [f"{p}alive:{host}", f"{p}host:{host}", f"{p}hosts"]
                purged += self._purge(keys=keys, args=[p, host])
        except redis.RedisError as exc:
            # Members and messages fail loudly on their own; the beat just tries again.
            log.warning("chat presence heartbeat failed: %s", type(exc).__name__)
            return False
        return purged > 0
