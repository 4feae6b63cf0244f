"""Mentions on a real `python app.py`: a member named in a room is told on each of their
sockets; someone named in a room they are not in hears nothing of it."""

from __future__ import annotations

from tests import test_chat_live
from tests.test_chat_share_live import events_until

people = test_chat_live.people  # the fixture: people("admin") is admin connected to live_server


def mentions(received: list[tuple[str, dict]]) -> list[dict]:
    return [payload for event, payload in received if event == "mention"]


def test_a_member_is_told_on_every_socket_and_a_non_member_hears_nothing(people):
    admin, cliente, usuario = people("admin"), people("cliente"), people("usuario")
    second_tab = people("cliente")
    assert admin.call("create_room", {"code": "sala1", "password": "secreta"})["ok"]
    assert cliente.call("join_room", {"code": "sala1", "password": "secreta"})["ok"]
    sent = admin.call("send_message", {"room": "sala1", "text": "@cliente y @usuario, mirad"})
    assert sent["ok"], sent
    admin.call("send_message", {"room": "lobby", "text": "fin"})
    for tab in (cliente, second_tab):
        [mention] = mentions(events_until(tab))
        assert mention["room"] == "sala1" and mention["id"] == sent["id"]
        assert mention["user"] == "admin" and mention["text"] == "@cliente y @usuario, mirad"
    received = events_until(usuario)
    assert mentions(received) == []
    assert all(payload.get("room") != "sala1" for _, payload in received), received
