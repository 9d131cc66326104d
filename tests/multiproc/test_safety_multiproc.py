"""Safety across processes: alerts, private replies, guidelines and `attended` on one shared Redis."""

from __future__ import annotations

from tests.multiproc.conftest import Cluster


async def test_an_alert_raised_on_b_reaches_staff_on_a_and_the_reply_comes_back(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle", guidelines="Be kind.")
    fac = await cluster.client(a, await a.server().staff("fran"))
    admin = await cluster.client(a, await a.server().login())  # not in the room
    await fac.join("circle")
    token, _ = await b.server().session("Quiet Heron")
    peer = await cluster.client(b, token)
    first = await peer.call("room:join", {"room": "circle"})
    assert first["error"]["code"] == "guidelines"
    joined = await peer.call("room:join", {"room": "circle", "accept_guidelines": 1})
    assert joined["ok"] and joined["room"]["attended"] is True
    peer_on_a = await cluster.client(a, token)  # the same person, a second tab on the other process
    assert (await peer_on_a.call("room:join", {"room": "circle"}))["ok"]  # acceptance is shared
    bystander = await cluster.client(a, (await a.server().session("Calm Lake"))[0])
    assert (await bystander.call("room:join", {"room": "circle", "accept_guidelines": 1}))["ok"]

    sent = (await peer.send("circle", "I want to kill myself"))["message"]
    await peer.wait_for("support:resources")
    await peer_on_a.wait_for("support:resources")
    for staff in (fac, admin):
        alert = await staff.wait_for("mod:alert")
        assert alert["kind"] == "crisis" and alert["message_id"] == sent["id"]
        assert alert["member"]["id"] == joined["you"]["id"]

    ack = await peer.call("support:request", {"room": "circle", "text": "please"})
    assert ack["ok"] and ack["staff_notified"] == 1
    request = await fac.wait_for("mod:alert", lambda x: x["kind"] == "request")
    reply = await fac.call("support:reply", {"room": "circle", "member": request["member"]["id"], "text": "Here."})
    assert reply["ok"] and reply["delivered"] is True
    assert (await peer.wait_for("support:reply"))["text"] == "Here."
    assert (await peer_on_a.wait_for("support:reply"))["text"] == "Here."

    marker = (await peer.send("circle", "thanks"))["message"]
    await bystander.wait_for("message:new", lambda m: m["id"] == marker["id"])
    assert all(not bystander.events[e] for e in ("support:resources", "mod:alert", "flag:new", "support:reply"))


async def test_with_no_staff_the_flag_reaches_an_admin_on_the_other_process(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    admin = await cluster.client(a, await a.server().login())
    peer = await cluster.client(b, (await b.server().session())[0])
    await peer.join("circle")
    sent = (await peer.send("circle", "je veux mourir"))["message"]
    flag = await admin.wait_for("flag:new")
    assert flag["reason"] == "crisis signal" and flag["reporter"] is None and flag["message"]["id"] == sent["id"]
    assert (await admin.wait_for("mod:alert"))["kind"] == "crisis"


async def test_attended_follows_staff_on_another_process(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle", unattended="read_only")
    peer = await cluster.client(a, (await a.server().session())[0])
    assert (await peer.join("circle"))["room"]["attended"] is False
    assert (await peer.send("circle", "anyone?"))["error"]["code"] == "room_locked"
    fac = await cluster.client(b, await b.server().staff("fran"))
    await fac.join("circle")
    await peer.wait_for("room:updated", lambda r: r["attended"] is True)
    assert (await peer.send("circle", "hello"))["ok"]
    await fac.sio.disconnect()
    await peer.wait_for("room:updated", lambda r: r["attended"] is False)
    assert (await peer.send("circle", "gone?"))["error"]["code"] == "room_locked"
