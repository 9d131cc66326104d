"""Engine.IO protocol points Hearth's transport fixes over python-engineio, checked on raw HTTP and websockets."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.rawws import RawWebSocket

EIO = "/engine.io/?EIO=4&transport="


async def handshake(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url + EIO + "polling") as resp:
        assert resp.status == 200
        body = await resp.text()
    assert body.startswith("0")
    return str(json.loads(body[1:])["sid"])


@pytest.mark.parametrize("path", ["/engine.io/", "/socket.io/"])
async def test_handshake_reports_sub_second_intervals_in_milliseconds(echo_url: str, path: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(echo_url + path + "?EIO=4&transport=polling") as resp:
            opened = json.loads((await resp.text())[1:])
    assert opened["pingInterval"] == 300 and opened["pingTimeout"] == 200
    assert opened["maxPayload"] == 1_000_000 and opened["upgrades"] == ["websocket"]
    ws = await RawWebSocket.connect(echo_url, path + "?EIO=4&transport=websocket")
    opened_ws = json.loads((await ws.recv_text() or "")[1:])
    assert opened_ws["pingInterval"] == 300 and opened_ws["upgrades"] == []
    await ws.aclose()


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("GET", "?EIO=4"),  # no transport: python-engineio assumes polling
        ("GET", "?EIO=4&transport=abc"),
        ("POST", "?EIO=4&transport=polling"),  # a POST without a session
        ("PUT", "?EIO=4&transport=polling"),  # python-engineio (and aiohttp's router) answer 405
        ("DELETE", "?EIO=4&transport=polling"),
        ("GET", "?EIO=3&transport=polling"),
    ],
)
async def test_bad_requests_get_400(echo_url: str, method: str, query: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, echo_url + "/engine.io/" + query) as resp:
            assert resp.status == 400


async def test_a_post_is_answered_ok_and_echoed_on_the_next_poll(echo_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        async with http.post(echo_url + EIO + "polling&sid=" + sid, data="4hello\x1ebAQIDBA==") as resp:
            assert resp.status == 200 and await resp.text() == "ok"
        async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
            assert await resp.text() == "4hello\x1ebAQIDBA=="


@pytest.mark.parametrize("body", ["abc", "", "0", "bnot*base64", "4a\x1e" * 20, "\x1e"])
async def test_an_invalid_packet_closes_a_polling_session(echo_url: str, body: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        async with http.post(echo_url + EIO + "polling&sid=" + sid, data=body) as resp:
            if body:
                assert resp.status == 400
        if body:
            async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
                assert resp.status == 400


async def test_a_duplicate_poll_closes_the_session(echo_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        first = asyncio.create_task(http.get(echo_url + EIO + "polling&sid=" + sid))
        await asyncio.sleep(0.05)  # the first poll is waiting on the server
        async with http.get(echo_url + EIO + "polling&sid=" + sid + "&t=burst") as resp:
            assert resp.status == 400
        async with await first as resp:
            assert resp.status == 200 and await resp.text() == "1"
        async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
            assert resp.status == 400


async def test_a_polling_session_that_misses_its_pong_is_closed(echo_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
            assert await resp.text() == "2"  # the ping, left unanswered
        await asyncio.sleep(0.3)  # past the 200 ms ping timeout
        async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
            assert resp.status == 400
        async with http.post(echo_url + EIO + "polling&sid=" + sid, data="3") as resp:
            assert resp.status == 400  # python-engineio raised (a 500) for a POST to a closed session


async def test_closing_ends_a_pending_poll_with_a_noop(echo_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        poll = asyncio.create_task(http.get(echo_url + EIO + "polling&sid=" + sid))
        await asyncio.sleep(0.05)
        async with http.post(echo_url + EIO + "polling&sid=" + sid, data="1") as resp:
            assert resp.status == 200
        async with await poll as resp:
            assert await resp.text() == "6"


async def test_upgrade_ends_the_poll_with_a_noop_and_sends_no_stray_noop(echo_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        ws = await RawWebSocket.connect(echo_url, EIO + "websocket&sid=" + sid)
        ws.send_text("2probe")
        assert await ws.recv_text() == "3probe"
        async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
            assert await resp.text() == "6"
        ws.send_text("5")
        ws.send_text("4hello")
        assert await ws.recv_text() == "4hello"  # python-engineio sent a "6" first
        await ws.aclose()


async def test_a_second_websocket_after_the_upgrade_is_accepted_and_closed(echo_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        sid = await handshake(http, echo_url)
        ws = await RawWebSocket.connect(echo_url, EIO + "websocket&sid=" + sid)
        ws.send_text("2probe")
        ws.send_text("5")
        assert await ws.recv_text() == "3probe"
        second = await RawWebSocket.connect(echo_url, EIO + "websocket&sid=" + sid)  # python-engineio: 400
        assert await second.closed()
        await second.aclose()
        async with http.get(echo_url + EIO + "polling&sid=" + sid) as resp:
            assert resp.status == 400
        ws.send_text("4hello")
        assert await ws.recv_text() == "4hello"
        await ws.aclose()


async def test_an_invalid_websocket_packet_closes_the_session(echo_url: str) -> None:
    ws = await RawWebSocket.connect(echo_url, EIO + "websocket")
    await ws.recv_text()
    ws.send_text("abc")
    assert await ws.closed()
    await ws.aclose()


async def test_a_websocket_that_misses_its_pong_is_closed(echo_url: str) -> None:
    ws = await RawWebSocket.connect(echo_url, EIO + "websocket")
    await ws.recv_text()
    assert await ws.recv_text() == "2"
    assert await ws.closed()
    await ws.aclose()
