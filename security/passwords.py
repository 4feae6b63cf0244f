"""Argon2id hashing run off the event loop, and the password policy for people's passwords.

Argon2 holds a core for its whole run (~20 ms at these parameters). Called on the
eventlet/gevent loop it freezes every socket; so each hash runs in the async
framework's OS thread pool, and a semaphore bounds how many run at once so a burst of
logins cannot take every core away from chat delivery.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from errors import Refusal
from security.offload import run_off_loop

T = TypeVar("T")

# OWASP's minimum for Argon2id: 19 MiB memory, 2 iterations, 1 lane.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
MIN_PASSWORD_CHARS = 10
M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Hashing slots are shared per pool: logins and accounts, and room passwords.
ACCOUNTS, ROOMS = "accounts", "rooms"
POOLS = (ACCOUNTS, ROOMS)


def _load_common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


_COMMON = _load_common_passwords()


def check_policy(password: object, username: str) -> str:
    """The password, unless it is short, holds the username or is common (400 weak_password)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise _weak(f"La contraseña debe tener al menos {MIN_PASSWORD_CHARS} caracteres.")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise _weak("La contraseña no puede contener el nombre de usuario.")
    if lowered in _COMMON or len(set(lowered)) < 3:
        raise _weak("Esa contraseña es demasiado común; elija otra.")
    return password


def _weak(reason: str) -> Refusal:
    return Refusal(400, "weak_password", reason)


def release_large_allocations() -> None:
    """Have glibc give large blocks (each hash's 19 MiB) back to the OS when freed.

    Without it, every thread that ever hashed keeps its 19 MiB in its own malloc arena:
    100 logins grew the eventlet server from 162 to 471 MiB.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_MMAP_THRESHOLD, 1024 * 1024)


class PasswordService:
    """Argon2id hashing with bounded concurrency; one per app."""

    def __init__(self, concurrency: int = 2) -> None:
        self.hasher = PasswordHasher(
            time_cost=ARGON2_TIME_COST,
            memory_cost=ARGON2_MEMORY_KIB,
            parallelism=ARGON2_PARALLELISM,
            type=Type.ID,
        )
        # Each pool has its own slots: a flood of room passwords queues behind itself and
        # never makes a login wait for a slot.
        self._pools = {pool: threading.BoundedSemaphore(max(1, concurrency)) for pool in POOLS}
        self.dummy_hash = self.hasher.hash("pichat-dummy-password")

    def _bounded(self, pool: str, func: Callable[..., T], *args: object) -> T:
        with self._pools[pool]:
            return run_off_loop(func, *args)

    def hash(self, password: str, pool: str = ACCOUNTS) -> str:
        """Hash a password off the loop, in `pool`'s share of the hashing slots."""
        return self._bounded(pool, self.hasher.hash, password)

    def verify(self, stored_hash: str | None, password: str, pool: str = ACCOUNTS) -> bool:
        """Check a password; an unknown user is checked against a dummy hash for equal timing."""
        try:
            matches = self._bounded(pool, self.hasher.verify, stored_hash or self.dummy_hash,
                                    password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matches and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether a hash was made with weaker parameters than today's."""
        return self.hasher.check_needs_rehash(stored_hash)
