"""Hypothesis over every Socket.IO event and every route: never a 500, never a traceback, every
refusal a DESIGN.md code. CI runs a fixed seed; `make fuzz` runs many more, random, cases."""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.handlers import CLIENT_EVENTS
from chat.history_events import HISTORY_EVENTS

# `make fuzz` sets PICHAT_FUZZ_EXAMPLES; CI runs 1,200 events and 1,000 requests, same seed.
LONG_RUN = "PICHAT_FUZZ_EXAMPLES" in os.environ
SCALE = int(os.environ.get("PICHAT_FUZZ_EXAMPLES", "1"))
FUZZ = settings(deadline=None, derandomize=not LONG_RUN, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fuzz(examples: int) -> settings:
    """The fuzz settings with `examples` cases (times PICHAT_FUZZ_EXAMPLES)."""
    return settings(FUZZ, max_examples=examples * SCALE)
ACK_CODES = {"bad_request", "forbidden", "not_found", "wrong_password", "exists", "rate_limited",
             "too_long", "locked", "quota", "internal"}
# Every event the server registers (a new one is fuzzed without touching this file).
EVENTS = sorted(set(CLIENT_EVENTS) - {"*"} | set(HISTORY_EVENTS)) + ["no_such_event"]
FIELDS = ["code", "password", "persistent", "room", "text", "to", "file_id", "id", "q"]
NAMES = st.sampled_from(["lobby", "sala1", "admin", "cliente", "usuario", "../x", "a" * 40])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60)
    | NAMES,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=5),
    max_leaves=12,
)
PAYLOADS = st.dictionaries(st.sampled_from(FIELDS), JSON | NAMES, max_size=5) | JSON


@pytest.fixture(scope="module")
def fuzz_app(fresh_app, tmp_path_factory) -> Iterator[Flask]:
    """One app for every case; HTTP limits off so each case reaches its handler."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("RATELIMIT_ENABLED", "false")
        app = fresh_app(monkeypatch, tmp_path_factory.mktemp("fuzz"))
        yield app
        app.extensions["audit"].close()


@pytest.fixture
def no_errors_logged(caplog) -> Iterator[None]:
    """Fail the test if the server logged an error or a traceback meanwhile."""
    caplog.set_level(logging.ERROR)
    yield
    assert [record.getMessage() for record in caplog.records
            if record.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text


@pytest.fixture(scope="module")
def fuzzed(fuzz_app, chat_sockets) -> Iterator[SocketIOTestClient]:
    """One administrator's socket for every case; time moves a second per reading, so its
    event budget never runs out and it is never taken for a flood."""
    fuzz_app.extensions["chat"].clock = itertools.count(step=1.0).__next__
    with chat_sockets(fuzz_app) as users:
        yield users.connect("admin")


@fuzz(1200)
@given(event=st.sampled_from(EVENTS), payload=PAYLOADS)
def test_every_event_answers_an_ack_with_a_design_code(fuzzed, no_errors_logged, event,
                                                       payload):
    answer = fuzzed.emit(event, payload, callback=True)
    fuzzed.queue.clear()  # what the server broadcast meanwhile
    assert isinstance(answer, dict) and isinstance(answer.get("ok"), bool), answer
    if not answer["ok"]:
        assert answer["error"] in ACK_CODES - {"internal"}, answer
        assert isinstance(answer["message"], str) and answer["message"]
    assert fuzzed.is_connected()


def concrete_paths(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route but logout, which would end the fuzzing session."""
    return sorted(
        (method, rule.rule) for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if rule.endpoint not in ("logout", "static")
    )


@pytest.fixture(scope="module")
def admin_http(fuzz_app):
    """An administrator's client (most routes answer more for an administrator)."""
    http = fuzz_app.test_client()
    http.post("/login", data={"username": "admin", "password": "admin123"})
    return http


ROUTE_VALUES = st.sampled_from(["admin", "cliente", "nadie", "0" * 32, "../../etc", "%00", "x"])


@fuzz(1000)
@given(data=st.data())
def test_every_route_answers_without_a_500(fuzz_app, admin_http, no_errors_logged, data):
    method, rule = data.draw(st.sampled_from(concrete_paths(fuzz_app)))
    path = re.sub(r"<[^>]+>", lambda _: data.draw(ROUTE_VALUES), rule)
    query = data.draw(st.dictionaries(st.sampled_from(
        ["status", "event", "user", "since", "until", "limit", "offset", "next", "token"]),
        st.text(max_size=20) | st.integers().map(str), max_size=3))
    body = data.draw(PAYLOADS)
    answer = admin_http.open(path, method=method, query_string=query,
                             json=body if method != "GET" else None)
    assert answer.status_code < 500 or answer.status_code == 507, (method, path, answer.status)
    if path.startswith("/api/") and answer.status_code >= 400:
        error = answer.get_json()
        assert isinstance(error, dict) and error["error"] and error["message"], error
