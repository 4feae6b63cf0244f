"""The chat's pure cores: membership backends (memory and Redis) and the throttles."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from chat.presence import Membership, MemoryMembership
from chat.presence_redis import RedisMembership
from chat.throttle import Cooldown, FloodDetector, TokenBucket


@pytest.fixture(params=["memory", "redis"])
def membership(request: pytest.FixtureRequest) -> Iterator[Membership]:
    """Each membership backend; Redis on its own key prefix, deleted after."""
    if request.param == "memory":
        yield MemoryMembership()
        return
    store = RedisMembership(request.getfixturevalue("redis_url"), prefix=f"t:{uuid.uuid4().hex}:")
    yield store
    _drop_keys(store)


@pytest.fixture
def two_processes(redis_url: str) -> Iterator[tuple[RedisMembership, RedisMembership]]:
    """Two processes' views of one Redis membership."""
    prefix = f"t:{uuid.uuid4().hex}:"
    yield RedisMembership(redis_url, prefix), RedisMembership(redis_url, prefix)
    _drop_keys(RedisMembership(redis_url, prefix))


def _drop_keys(store: RedisMembership) -> None:
    for key in store.redis.scan_iter(f"{store.prefix}*"):
        store.redis.delete(key)


def test_join_is_news_only_for_the_users_first_socket(membership):
    assert membership.join("sala", "s1", "ana") is True
    assert membership.join("sala", "s2", "ana") is False
    assert membership.join("sala", "s3", "bea") is True
    assert membership.members("sala") == ["ana", "bea"]


def test_leave_is_news_only_when_the_users_last_socket_goes(membership):
    membership.join("sala", "s1", "ana")
    membership.join("sala", "s2", "ana")
    assert membership.leave("sala", "s1", "ana") is False
    assert membership.leave("sala", "s2", "ana") is True
    assert membership.members("sala") == [] and membership.rooms_of("s2") == set()


def test_leaving_a_room_never_joined_is_no_news(membership):
    assert membership.leave("sala", "s1", "ana") is False


def test_close_takes_every_socket_out(membership):
    membership.join("sala", "s1", "ana")
    membership.join("otra", "s1", "ana")
    membership.close("sala")
    assert membership.rooms_of("s1") == {"otra"} and membership.members("sala") == []


def test_presence_is_lobby_membership(membership):
    for sid, name in (("s1", "ana"), ("s2", "bea"), ("s3", "ana")):
        membership.join("lobby", sid, name)
    assert membership.online() == ["ana", "bea"]
    assert sorted(membership.sids("ana")) == ["s1", "s3"]


def test_sockets_of_a_process_that_stopped_beating_are_dropped(two_processes):
    alive, dead = two_processes
    dead.beat()
    alive.join("lobby", "s1", "ana")
    dead.join("lobby", "s2", "bea")
    dead.join("sala", "s2", "bea")
    dead.redis.delete(f"{dead.prefix}alive:{dead.host_id}")  # as if its key had expired
    assert alive.beat() is True
    assert alive.online() == ["ana"] and alive.members("sala") == []
    assert alive.rooms_of("s2") == set()


def test_sockets_of_a_beating_process_are_kept(two_processes):
    first, second = two_processes
    second.join("lobby", "s2", "bea")
    second.beat()
    assert first.beat() is False and first.online() == ["bea"]


def test_token_bucket_allows_the_burst_then_the_rate(fake_clock):
    bucket = TokenBucket(rate=10, burst=20, clock=fake_clock)
    assert [bucket.take() for _ in range(21)] == [True] * 20 + [False]
    fake_clock.advance(0.5)
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]


def test_flood_detector_fires_only_within_the_window(fake_clock):
    detector = FloodDetector(limit=3, window=10, clock=fake_clock)
    assert [detector.refused() for _ in range(2)] == [False, False]
    fake_clock.advance(10)
    assert [detector.refused() for _ in range(3)] == [False, False, True]


def test_cooldown_is_per_key(fake_clock):
    cooldown = Cooldown(2, fake_clock)
    assert [cooldown.ready("a"), cooldown.ready("a"), cooldown.ready("b")] == [True, False, True]
    fake_clock.advance(2)
    assert cooldown.ready("a")
