"""The one-time setup token: stored 0600, valid for an hour, usable by exactly one request."""

from __future__ import annotations

import os
import stat
import threading
from datetime import timedelta

from security import setup_token
from security.clock import utcnow


def test_the_token_is_kept_0600_and_reused_until_it_expires(tmp_path):
    first = setup_token.current_token(str(tmp_path))
    assert setup_token.current_token(str(tmp_path)) == first
    mode = stat.S_IMODE(os.stat(tmp_path / setup_token.TOKEN_FILE).st_mode)
    assert mode == 0o600
    later = utcnow() + timedelta(minutes=61)
    assert not setup_token.is_valid(str(tmp_path), first, now=later)
    assert setup_token.current_token(str(tmp_path), now=later) != first


def test_only_the_exact_token_is_valid(tmp_path):
    token = setup_token.current_token(str(tmp_path))
    assert setup_token.is_valid(str(tmp_path), token)
    for wrong in ("", None, token[:-1], token + "x", token.upper(), 42):
        assert not setup_token.is_valid(str(tmp_path), wrong)


def test_twenty_requests_claiming_at_once_leave_exactly_one_winner(tmp_path):
    token = setup_token.current_token(str(tmp_path))
    start = threading.Barrier(20)
    results: list[bool] = []

    def claim() -> None:
        start.wait()
        results.append(setup_token.claim(str(tmp_path), token))

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False] * 19 + [True]
    assert not setup_token.is_valid(str(tmp_path), token)


def test_a_token_given_back_works_again_and_forget_removes_it(tmp_path):
    token = setup_token.current_token(str(tmp_path))
    assert setup_token.claim(str(tmp_path), token)
    setup_token.give_back(str(tmp_path))
    assert setup_token.is_valid(str(tmp_path), token)
    setup_token.forget(str(tmp_path))
    assert not setup_token.is_valid(str(tmp_path), token)
    assert list(tmp_path.iterdir()) == []
