"""The chat's pure cores: membership backends (memory and Redis) and the throttles."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

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


def test_join_is_news_only_the_first_time(membership):
    assert membership.join("sala", "ana") is True
    assert membership.join("sala", "ana") is False
    assert membership.join("sala", "bea") is True
    assert membership.members("sala") == ["ana", "bea"]
    assert membership.rooms_of("ana") == {"sala"}


def test_leave_is_news_only_for_a_member(membership):
    membership.join("sala", "ana")
    assert membership.leave("sala", "ana") is True
    assert membership.leave("sala", "ana") is False
    assert membership.members("sala") == [] and membership.rooms_of("ana") == set()


def test_close_ends_every_membership_of_the_room(membership):
    membership.join("sala", "ana")
    membership.join("otra", "ana")
    membership.join("sala", "bea")
    membership.close("sala")
    assert membership.rooms_of("ana") == {"otra"} and membership.members("sala") == []
    assert membership.rooms_of("bea") == set()


def test_online_counts_accounts_not_sockets(membership):
    assert [membership.connect(sid, name, cap=20) for sid, name in
            (("s1", "ana"), ("s2", "bea"), ("s3", "ana"))] == [1, 1, 2]
    assert membership.online() == ["ana", "bea"]
    assert sorted(membership.sids("ana")) == ["s1", "s3"]
    assert membership.disconnect("s1", "ana", now=5.0) is False
    assert membership.disconnect("s3", "ana", now=5.0) is True
    assert membership.online() == ["bea"] and membership.sids("ana") == []


def test_a_socket_past_the_cap_is_not_counted(membership):
    assert [membership.connect(f"s{n}", "ana", cap=2) for n in range(3)] == [1, 2, 0]
    assert sorted(membership.sids("ana")) == ["s0", "s1"]


def test_an_account_is_away_from_its_last_disconnect_until_it_returns(membership):
    membership.connect("s1", "ana", cap=20)
    membership.connect("s2", "bea", cap=20)
    membership.disconnect("s1", "ana", now=100.0)
    membership.disconnect("s2", "bea", now=200.0)
    membership.connect("s3", "bea", cap=20)  # back before the sweep: no longer away
    assert membership.take_away(before=100.0) == []
    assert membership.take_away(before=300.0) == ["ana"]
    assert membership.take_away(before=300.0) == []


def test_sockets_of_a_process_that_stopped_beating_are_dropped(two_processes):
    alive, dead = two_processes
    dead.beat(now=1.0)
    alive.connect("s1", "ana", cap=20)
    dead.connect("s2", "bea", cap=20)
    dead.join("sala", "bea")
    dead.redis.delete(f"{dead.prefix}alive:{dead.host_id}")  # as if its key had expired
    assert alive.beat(now=50.0) is True
    assert alive.online() == ["ana"] and alive.sids("bea") == []
    # Still a member while away: a crash is not a goodbye.
    assert alive.members("sala") == ["bea"] and alive.take_away(before=60.0) == ["bea"]


def test_sockets_of_a_beating_process_are_kept(two_processes):
    first, second = two_processes
    second.connect("s2", "bea", cap=20)
    second.beat(now=1.0)
    assert first.beat(now=2.0) is False and first.online() == ["bea"]


def test_the_socket_cap_holds_across_processes_connecting_at_once(two_processes):
    first, second = two_processes
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda n: (first, second)[n % 2].connect(f"s{n}", "ana", 5),
                               range(40)))
    assert sorted(c for c in counts if c) == [1, 2, 3, 4, 5] and len(first.sids("ana")) == 5


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


def test_a_process_counts_its_sockets_again_when_redis_lost_them(two_processes):
    first, other = two_processes
    first.connect("s1", "ana", cap=20)
    other.connect("s2", "bea", cap=20)
    _drop_keys(first)  # as a Redis restarted without persistence
    assert first.restore([("s1", "ana")]) is True
    assert first.restore([("s1", "ana")]) is False  # nothing lost this time
    assert first.online() == ["ana"] and first.sids("ana") == ["s1"]
