"""The ACL user docs/OPERATIONS.md gives is enough for everything Hearth does, and no more."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import redis

from tests.multiproc.conftest import Cluster

DOC = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"
PASSWORD = "acl-test-password-123"


def acl_line() -> list[str]:
    line = next(x for x in DOC.read_text().splitlines() if x.startswith("ACL SETUSER hearth "))
    return [f">{PASSWORD}" if w == ">choose-a-long-password" else w for w in shlex.split(line)][2:]  # after ACL SETUSER


async def test_two_processes_work_under_the_documented_acl_user(cluster: Cluster) -> None:
    admin = redis.Redis(port=cluster.redis.port)
    try:
        words = acl_line()
        assert words[0] == "hearth" and f">{PASSWORD}" in words
        admin.execute_command("ACL", "SETUSER", *words)
        limited = redis.Redis(port=cluster.redis.port, username="hearth", password=PASSWORD)
        with pytest.raises(redis.exceptions.NoPermissionError):
            limited.set("other-app:key", b"x")  # not Hearth's key
        with pytest.raises(redis.exceptions.NoPermissionError):
            limited.flushall()
        limited.close()
    finally:
        admin.close()
    url = re.sub(r"^redis://", f"redis://hearth:{PASSWORD}@", cluster.redis.url)
    a, b = cluster.spawn(REDIS_URL=url), cluster.spawn(REDIS_URL=url)
    await a.server().room("circle")
    fac = await cluster.client(a, await a.server().staff("fran"))
    peer = await cluster.client(b, (await b.server().session())[0])
    watcher = await cluster.client(a, (await a.server().session())[0])
    await fac.join("circle")
    you = (await peer.join("circle"))["you"]
    await watcher.join("circle")
    sent = (await peer.send("circle", "under acl", client_id="c1"))["message"]
    await watcher.wait_for("message:new", lambda m: m["id"] == sent["id"])
    ack = await peer.call("message:flag", {"room": "circle", "message_id": sent["id"], "reason": "test"})
    assert ack["ok"], ack
    assert (await fac.call("mod:mute", {"room": "circle", "member": you["id"]}))["ok"]
    assert (await fac.call("mod:remove", {"room": "circle", "member": you["id"], "ban_s": 60}))["ok"]
    await peer.wait_for("room:removed")
    await watcher.wait_for("member:left", lambda e: e["member_id"] == you["id"])
    for node in (a, b):
        log = node.log.read_text()
        assert "NOPERM" not in log and "NoPermission" not in log and "Traceback" not in log
