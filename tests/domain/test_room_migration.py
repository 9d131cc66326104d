"""A SQLite database made before Version 1.1 gains the new room columns, with their defaults."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rooms.clock import ManualClock
from rooms.models import Admission, RoomSettings, Unattended
from server.services import open_services
from tests.conftest import make_config

OLD_ROOMS = """
CREATE TABLE rooms (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL, message_ttl_s INTEGER NOT NULL,
    slow_mode_s INTEGER NOT NULL, locked INTEGER NOT NULL, capacity INTEGER, created_at INTEGER NOT NULL
);
INSERT INTO rooms VALUES ('old', 'Old', '', 86400, 0, 0, NULL, 1);
"""


async def test_old_database_gets_v11_columns(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(config.db_path) as conn:
        conn.executescript(OLD_ROOMS)
    svc = await open_services(config, ManualClock())
    try:
        room = await svc.rooms.get_room("old")
        assert (room.guidelines, room.guidelines_version, room.min_identity_age_s) == ("", 0, 0)
        assert room.admission is Admission.OPEN and room.unattended is Unattended.OPEN
        updated = await svc.rooms.update_room("old", RoomSettings(guidelines="Hi", admission=Admission.APPROVAL))
        assert updated.guidelines_version == 1
    finally:
        await svc.aclose()
    svc = await open_services(config, ManualClock())  # opening again changes nothing
    try:
        room = await svc.rooms.get_room("old")
        assert room.guidelines == "Hi" and room.admission is Admission.APPROVAL
    finally:
        await svc.aclose()
