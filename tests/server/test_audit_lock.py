"""The audit log tells locking a room from unlocking it (the admin page words them)."""

from __future__ import annotations

from tests.conftest import Server


async def test_audit_tells_lock_from_unlock(server: Server) -> None:
    await server.room("circle")
    admin = await server.login()
    for patch in ({"locked": True}, {"locked": False}, {"topic": "Evenings", "locked": False}):
        status, body = await server.patch("/api/rooms/circle", patch, admin)
        assert status == 200, body
    status, body = await server.get("/api/admin/audit?room=circle", admin)
    assert status == 200
    updates = [e["reason"] for e in body["entries"] if e["action"] == "room.update"]
    assert updates == ["unlocked, topic", "unlocked", "locked"]  # newest first
