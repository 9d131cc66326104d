"""The `internal` error path over a real server: a store that fails unexpectedly gives a short,
logged answer with a request id (HTTP 500 and a Socket.IO ack), never a traceback to the client."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from server.http_api import SERVICES
from tests.conftest import Connect, Server

REQUEST_ID = re.compile(r"\A[0-9a-f]{12}\Z")


class Boom(Exception):
    """Not a HearthError: nothing in Hearth expects it."""


async def _explode(*_: Any, **__: Any) -> Any:
    raise Boom("SECRET-DETAIL from deep inside the store")


def _check_internal(error: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    assert error["code"] == "internal" and error["message"] == "Internal error."
    assert REQUEST_ID.fullmatch(error["request_id"]), error
    assert set(error) == {"code", "message", "request_id"}
    [record] = [r for r in caplog.records if error["request_id"] in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info is not None  # the operator gets the traceback


async def test_http_internal_error_has_a_request_id(
    server: Server, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = await server.session()
    monkeypatch.setattr(server.app[SERVICES].room_store, "list_rooms", _explode)
    caplog.set_level(logging.INFO)
    status, body = await server.get("/api/rooms", token)
    assert status == 500
    _check_internal(body["error"], caplog)
    assert "SECRET-DETAIL" not in str(body)
    monkeypatch.undo()
    status, body = await server.get("/api/rooms", token)
    assert status == 200 and body == {"rooms": []}


async def test_ack_internal_error_has_a_request_id(
    server: Server, connect: Connect, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await server.room("circle")
    peer = await connect((await server.session())[0])
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(server.app[SERVICES].room_store, "get_room", _explode)
    ack = await peer.call("room:join", {"room": "circle"})
    assert ack["ok"] is False
    _check_internal(ack["error"], caplog)
    assert "SECRET-DETAIL" not in str(ack)
    monkeypatch.undo()
    assert (await peer.join("circle"))["room"]["id"] == "circle"  # the same socket carries on
    assert (await peer.send("circle", "still here"))["ok"]
