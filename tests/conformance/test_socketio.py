"""Socket.IO protocol points Hearth's transport fixes over python-socketio, checked on raw websockets."""

from __future__ import annotations

import json

import pytest

from server import metrics
from tests.rawws import RawWebSocket

WS = "/socket.io/?EIO=4&transport=websocket"


async def opened(echo_url: str) -> RawWebSocket:
    ws = await RawWebSocket.connect(echo_url, WS)
    assert (await ws.recv_text() or "").startswith("0{")
    return ws


async def connected(echo_url: str) -> RawWebSocket:
    ws = await opened(echo_url)
    ws.send_text("40")
    assert (await ws.recv_text() or "").startswith("40{")
    assert await ws.recv_text() == '42["auth",{}]'
    return ws


async def test_an_unknown_namespace_is_an_invalid_namespace(echo_url: str) -> None:
    ws = await opened(echo_url)
    ws.send_text("40/random")
    assert await ws.recv_text() == '44/random,{"message":"Invalid namespace"}'  # python-socketio: "Unable to connect"
    await ws.aclose()


async def test_a_session_that_never_connects_is_closed_after_the_connect_timeout(echo_url: str) -> None:
    before = metrics.REGISTRY.get_sample_value("hearth_transport_dropped_total", {"reason": "connect_timeout"}) or 0
    ws = await opened(echo_url)
    while True:  # answer every ping, so that only the connect timeout can close it
        frame = await ws.recv_text()
        if frame != "2":
            break
        ws.send_text("3")
    assert frame == "1"  # the Engine.IO CLOSE packet
    assert await ws.closed()
    await ws.aclose()
    after = metrics.REGISTRY.get_sample_value("hearth_transport_dropped_total", {"reason": "connect_timeout"})
    assert after == before + 1


async def test_a_custom_namespace_can_leave_while_the_main_one_stays(echo_url: str) -> None:
    ws = await connected(echo_url)
    ws.send_text('40/custom,{"token":"abc"}')
    assert (await ws.recv_text() or "").startswith("40/custom,{")
    assert await ws.recv_text() == '42/custom,["auth",{"token":"abc"}]'
    ws.send_text("41/custom")
    ws.send_text('42["message","to main"]')
    assert await ws.recv_text() == '42["message-back","to main"]'
    ws.send_text('42456["message-with-ack",1,"2",{"3":[false]}]')
    assert await ws.recv_text() == '43456[1,"2",{"3":[false]}]'
    await ws.aclose()


@pytest.mark.parametrize(
    "frame",
    [
        "4abc",  # unknown packet type
        "42{}",  # an event that is not a list
        '42abc["message-with-ack",1]',  # an invalid ack id
        "42[]",
        "42[1]",
        '452-["message",{"_placeholder":true,"num":0}]',  # binary attachments: Hearth speaks JSON only
    ],
)
async def test_invalid_packets_close_the_connection(echo_url: str, frame: str) -> None:
    ws = await connected(echo_url)
    ws.send_text(frame)
    assert await ws.closed()
    await ws.aclose()


async def test_an_invalid_handshake_closes_the_connection(echo_url: str) -> None:
    ws = await opened(echo_url)
    ws.send_text("4abc")
    assert await ws.closed()
    await ws.aclose()


async def test_auth_payload_is_echoed(echo_url: str) -> None:
    ws = await opened(echo_url)
    ws.send_text("40" + json.dumps({"token": "123"}))
    assert (await ws.recv_text() or "").startswith("40{")
    assert await ws.recv_text() == '42["auth",{"token":"123"}]'
    await ws.aclose()
