"""Safety over the wire (docs/PROTOCOL.md rules 23, 29-32) and the crisis file at start-up."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client, Connect, Server

TIMEOUT = 30


def _start(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "REDIS_URL", "PORT"))}
    env.update({"HEARTH_DATA_DIR": str(tmp_path / "data"), "HEARTH_IP_LIMITS": "off", **extra})
    return subprocess.run(
        [sys.executable, "-m", "server", "--port", "0"], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (None, "cannot be read"),
        ("[phrases\nen = 1", "not valid TOML"),
        ('[phrases]\nen = ["want to die"]\n', "at least one [[resources]] entry is required"),
        ('[phrases]\nen = ["x"]\n[[resources]]\nname = "Line"\n', "needs at least a phone, text or url"),
    ],
)
def test_a_bad_crisis_file_is_one_readable_line_and_exit_2(tmp_path: Path, body: str | None, needle: str) -> None:
    path = tmp_path / "crisis.toml"
    if body is not None:
        path.write_text(body, encoding="utf-8")
    result = _start(tmp_path, HEARTH_CRISIS_FILE=str(path))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("hearth:")]
    assert len(lines) == 1, result.stderr
    assert "HEARTH_CRISIS_FILE" in lines[0] and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_quick_exit_url_is_refused(tmp_path: Path) -> None:
    result = _start(tmp_path, HEARTH_QUICK_EXIT_URL="javascript:alert(1)")
    assert result.returncode == 2
    assert "HEARTH_QUICK_EXIT_URL" in result.stderr and "Traceback" not in result.stderr


# over the wire, on both stores ----------------------------------------------------------

CRISIS = "I don't think I can go on. I want to end my life."


async def _marker(sender: Client, bystander: Client, room: str, text: str) -> None:
    """A later message the bystander must see: whatever it would have been sent before has arrived."""
    ack = await sender.send(room, text)
    assert ack["ok"], ack
    await bystander.wait_for("message:new", lambda m: m["text"] == text)


async def _signals(server: Server) -> float:
    status, text = await server.get("/metrics")
    assert status == 200
    found = re.search(r"^hearth_crisis_signals_total (\S+)$", text, re.M)
    assert found, "the crisis counter is exported"
    return float(found.group(1))


def _private_events(client: Client) -> dict[str, list[Any]]:
    private = ("support:resources", "mod:alert", "flag:new", "support:reply")
    return {e: client.events[e] for e in private if client.events[e]}


async def test_guidelines_are_accepted_once_per_version(server: Server, connect: Connect) -> None:
    await server.room("circle", guidelines="Be kind. No real names.")
    token, _ = await server.session("Quiet Heron")
    peer = await connect(token)
    ack = await peer.call("room:join", {"room": "circle"})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "guidelines"
    assert ack["error"]["guidelines"] == "Be kind. No real names." and ack["error"]["version"] == 1
    stale = await peer.call("room:join", {"room": "circle", "accept_guidelines": 0})
    assert stale["error"]["code"] == "guidelines"
    bad = await peer.call("room:join", {"room": "circle", "accept_guidelines": "1"})
    assert bad["error"]["code"] == "invalid" and bad["error"]["field"] == "accept_guidelines"
    ok = await peer.call("room:join", {"room": "circle", "accept_guidelines": 1})
    assert ok["ok"], ok
    assert ok["room"]["guidelines"] == "Be kind. No real names." and ok["room"]["guidelines_version"] == 1
    await peer.sio.disconnect()

    again = await connect(token)  # another socket, later: remembered for the member
    assert (await again.call("room:join", {"room": "circle"}))["ok"]

    admin = await server.login()
    status, room = await server.patch("/api/rooms/circle", {"guidelines": "Be kind. Be brief."}, admin)
    assert status == 200 and room["guidelines_version"] == 2
    await again.call("room:leave", {"room": "circle"})
    changed = await again.call("room:join", {"room": "circle"})
    assert changed["error"]["code"] == "guidelines" and changed["error"]["version"] == 2

    staff = await connect(await server.staff("fran"))
    assert (await staff.call("room:join", {"room": "circle"}))["ok"]


async def test_a_crisis_message_reaches_staff_and_the_sender_only(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    admin = await connect(await server.login())  # connected, not in the room
    token, _ = await server.session("Quiet Heron")
    sender = await connect(token)
    sender_tab = await connect(token)
    bystander = await connect((await server.session("Calm Lake"))[0])
    for c in (sender, sender_tab, bystander):
        await c.join("circle")

    ack = await sender.send("circle", CRISIS)
    assert ack["ok"], ack
    msg = ack["message"]
    assert msg["text"] == CRISIS

    for tab in (sender, sender_tab):
        resources = await tab.wait_for("support:resources")
        assert resources["room"] == "circle"
        assert any(r["name"] == "988 Suicide & Crisis Lifeline" for r in resources["resources"])
    for staff in (fac, admin):
        alert = await staff.wait_for("mod:alert")
        assert alert["kind"] == "crisis" and alert["message_id"] == msg["id"] and alert["room"] == "circle"
        assert alert["member"]["id"] == msg["author"]["id"] and alert["id"] and isinstance(alert["ts"], int)
    await _marker(sender, bystander, "circle", "thanks for listening")
    await _marker(sender, fac, "circle", "thanks again")
    assert [m["text"] for m in bystander.events["message:new"]] == [CRISIS, "thanks for listening", "thanks again"]
    assert _private_events(bystander) == {}
    assert len(fac.events["mod:alert"]) == 1 and fac.events["flag:new"] == []  # staff present: no flag
    status, flags = await server.get("/api/admin/flags?status=open", await server.login())
    assert status == 200 and flags["flags"] == []


async def test_with_no_staff_in_the_room_a_crisis_signal_opens_a_flag(server: Server, connect: Connect) -> None:
    await server.room("circle")
    admin = await connect(await server.login())
    sender = await connect((await server.session("Quiet Heron"))[0])
    bystander = await connect((await server.session("Calm Lake"))[0])
    await sender.join("circle")
    await bystander.join("circle")
    before = await _signals(server)

    ack = await sender.send("circle", "honestly i wanna die")
    await sender.wait_for("support:resources")
    alert = await admin.wait_for("mod:alert")
    flag = await admin.wait_for("flag:new")
    assert alert["kind"] == "crisis" and alert["message_id"] == ack["message"]["id"]
    assert flag["reason"] == "crisis signal" and flag["reporter"] is None and flag["reporter_pseudonym"] is None
    assert flag["message"]["id"] == ack["message"]["id"] and flag["status"] == "open"
    await _marker(sender, bystander, "circle", "ok")
    assert _private_events(bystander) == {}

    assert await _signals(server) == before + 1
    _, metrics_text = await server.get("/metrics")
    assert "wanna die" not in metrics_text and "Quiet Heron" not in metrics_text


async def test_everyday_hyperbole_raises_nothing(server: Server, connect: Connect) -> None:
    await server.room("circle")
    admin = await connect(await server.login())
    sender = await connect((await server.session("Quiet Heron"))[0])
    await sender.join("circle")
    for text in ("I killed it at work today", "this heat is killing me", "dead tired", "I could die laughing"):
        assert (await sender.send("circle", text))["ok"]
    await admin.join("circle")  # a round trip after the sends: anything emitted to admins came first
    assert _private_events(sender) == {} and _private_events(admin) == {}


async def test_a_help_request_is_private_and_answered_privately(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    token, _ = await server.session("Quiet Heron")
    peer = await connect(token)
    peer_tab = await connect(token)
    bystander = await connect((await server.session("Calm Lake"))[0])
    for c in (peer, peer_tab, bystander):
        await c.join("circle")

    ack = await peer.call("support:request", {"room": "circle", "text": "rough night, can someone talk?"})
    assert ack["ok"] and ack["staff_notified"] == 1 and ack["resources"]
    alert = await fac.wait_for("mod:alert")
    assert alert["kind"] == "request" and alert["text"] == "rough night, can someone talk?"
    assert "message_id" not in alert

    reply = await fac.call("support:reply", {"room": "circle", "member": alert["member"]["id"], "text": "I'm here."})
    assert reply["ok"] and reply["delivered"] is True
    for tab in (peer, peer_tab):
        got = await tab.wait_for("support:reply")
        assert got["text"] == "I'm here." and got["by"]["role"] == "facilitator" and got["room"] == "circle"
    await _marker(peer, bystander, "circle", "thank you")
    assert _private_events(bystander) == {}
    status, flags = await server.get("/api/admin/flags?status=open", await server.login())
    assert flags["flags"] == []

    forbidden = await bystander.call("support:reply", {"room": "circle", "member": alert["member"]["id"], "text": "x"})
    assert forbidden["error"]["code"] == "forbidden"
    too_long = await peer.call("support:request", {"room": "circle", "text": "x" * 501})
    assert too_long["error"]["code"] == "invalid"
    unknown = await fac.call("support:reply", {"room": "circle", "member": "m_nobody", "text": "hi"})
    assert unknown["error"]["code"] == "not_found"
    outsider = await connect((await server.session("Far Away"))[0])
    assert (await outsider.call("support:request", {"room": "circle"}))["error"]["code"] == "not_member"


async def test_a_help_request_with_no_staff_goes_to_the_admin_queue(server: Server, connect: Connect) -> None:
    await server.room("circle")
    admin_token = await server.login()
    admin = await connect(admin_token)
    peer = await connect((await server.session("Quiet Heron"))[0])
    joined = await peer.join("circle")
    ack = await peer.call("support:request", {"room": "circle", "text": ""})
    assert ack["ok"] and ack["staff_notified"] == 0 and ack["resources"]
    alert = await admin.wait_for("mod:alert")
    assert alert["kind"] == "request" and "text" not in alert
    flag = await admin.wait_for("flag:new")
    assert flag["reason"] == "help request" and flag["message"] is None
    assert flag["reporter"] == joined["you"]["id"]
    assert flag["reporter_pseudonym"] == "Quiet Heron"  # who asked, by the name the room saw

    status, body = await server.post(f"/api/admin/flags/{flag['id']}/resolve", {"action": "ban"}, admin_token)
    assert status == 400 and body["error"]["code"] == "invalid"
    status, body = await server.post(f"/api/admin/flags/{flag['id']}/resolve", {"action": "dismiss"}, admin_token)
    assert status == 200 and body["status"] == "dismissed"


async def test_attended_flips_when_the_first_staff_joins_and_the_last_leaves(server: Server, connect: Connect) -> None:
    await server.room("circle")
    peer = await connect((await server.session("Quiet Heron"))[0])
    joined = await peer.join("circle")
    assert joined["room"]["attended"] is False
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    updated = await peer.wait_for("room:updated", lambda r: r["attended"] is True)
    assert updated["id"] == "circle"
    await fac.sio.disconnect()  # a disconnect is leaving
    await peer.wait_for("room:updated", lambda r: r["attended"] is False)


async def test_unattended_slow_and_read_only(server: Server, connect: Connect) -> None:
    await server.room("slow", unattended="slow", slow_mode_s=5)
    await server.room("quiet", unattended="read_only")
    peer = await connect((await server.session("Quiet Heron"))[0])
    await peer.join("slow")
    await peer.join("quiet")
    assert (await peer.send("slow", "one"))["ok"]
    second = await peer.send("slow", "two")
    assert second["error"]["code"] == "slow_mode"
    assert 25_000 < second["error"]["retry_after_ms"] <= 30_000
    refused = await peer.send("quiet", "hello?")
    assert refused["error"]["code"] == "room_locked"

    fac = await connect(await server.staff("fran"))
    await fac.join("quiet")
    await peer.wait_for("room:updated", lambda r: r["id"] == "quiet" and r["attended"] is True)
    assert (await peer.send("quiet", "hello"))["ok"]
    await fac.join("slow")
    assert (await fac.send("slow", "staff are never slowed"))["ok"]
    assert (await fac.send("slow", "not even twice"))["ok"]


async def test_safety_endpoint_gives_quick_exit_and_resources(server: Server) -> None:
    status, body = await server.get("/api/safety")
    assert status == 200
    assert body["quick_exit_url"] == "https://www.bbc.co.uk/weather"
    assert {"name", "phone"} <= set(body["resources"][0]) or {"name", "url"} <= set(body["resources"][0])


async def test_logs_never_hold_the_text_or_the_pseudonym(
    server: Server, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    peer = await connect((await server.session("Quiet Heron"))[0])
    await peer.join("circle")
    await peer.send("circle", CRISIS)
    await peer.call("support:request", {"room": "circle", "text": "secret words"})
    alert = await fac.wait_for("mod:alert", lambda a: a["kind"] == "request")
    await fac.call("support:reply", {"room": "circle", "member": alert["member"]["id"], "text": "private answer"})
    await peer.wait_for("support:reply")
    logged = caplog.text
    for secret in ("end my life", "secret words", "private answer", "Quiet Heron"):
        assert secret not in logged
    assert "event=crisis_signal" in logged and "event=support_request" in logged
