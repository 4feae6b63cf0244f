"""Argon2id parameters, rehash on login, the bounded off-loop hashing and the password policy."""

from __future__ import annotations

import threading
import time

import pytest
from argon2 import PasswordHasher

from errors import Refusal
from extensions import db
from security.accounts import find_user
from security.passwords import ROOMS, PasswordService, check_policy


def test_hashes_are_argon2id_at_owasp_minimum_or_above():
    encoded = PasswordService().hash("una clave cualquiera")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_outdated_hash_is_upgraded_at_login(app, client, login):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("cliente123")
    with app.app_context():
        find_user("cliente").password_hash = weak
        db.session.commit()
    assert login(client, "cliente", expect=None).status_code == 302
    with app.app_context():
        assert find_user("cliente").password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


class SpyHasher:
    """Wraps the real hasher (its attributes are read-only) to observe the calls."""

    def __init__(self, real, on_call):
        self.real, self.on_call = real, on_call

    def verify(self, stored, password):
        self.on_call(stored)
        return self.real.verify(stored, password)

    def hash(self, password):
        self.on_call(password)
        return "hash"


def test_unknown_user_is_checked_against_a_dummy_hash():
    service = PasswordService()
    seen = []
    service.hasher = SpyHasher(service.hasher, seen.append)
    assert service.verify(None, "pichat-dummy-password") is False
    assert seen == [service.dummy_hash]


def test_no_more_than_the_bound_hash_at_once():
    service = PasswordService(concurrency=2)
    running, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def slow_hash(_):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(timeout=0.2)
        with lock:
            running[0] -= 1

    service.hasher = SpyHasher(service.hasher, slow_hash)
    threads = [threading.Thread(target=service.hash, args=("x",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


@pytest.mark.parametrize(
    "password,reason",
    [
        ("corta1", "10 caracteres"),
        ("administrator", "común"),
        ("1234567890", "común"),
        ("aaaaaaaaaaaa", "común"),
        ("usuario-seguro-99", "nombre de usuario"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    with pytest.raises(Refusal, match=reason):
        check_policy(password, "usuario")


def test_a_long_uncommon_password_passes_the_policy():
    assert check_policy("caballo-grapa-bateria-7", "usuario") == "caballo-grapa-bateria-7"


def test_a_flood_of_room_passwords_never_takes_a_logins_slot():
    service = PasswordService(concurrency=1)
    rooms_may_finish = threading.Event()
    service.hasher = SpyHasher(
        service.hasher, lambda password: password == "sala" and rooms_may_finish.wait(5)
    )
    flood = [threading.Thread(target=service.hash, args=("sala", ROOMS)) for _ in range(4)]
    for thread in flood:
        thread.start()
    started = time.monotonic()
    assert service.hash("contraseña-de-login") == "hash"  # the accounts pool is free
    assert time.monotonic() - started < 1
    assert any(thread.is_alive() for thread in flood)
    rooms_may_finish.set()
    for thread in flood:
        thread.join(timeout=10)
