"""Domain fixtures: the real services on real SQLite, driven by a ManualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rooms.clock import ManualClock
from rooms.models import Identity, Role
from server.services import Services, open_services
from tests.conftest import make_config


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def svc(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Services]:
    services = await open_services(make_config(tmp_path), clock)
    yield services
    await services.aclose()


PEER = Identity("u_peer", "Quiet Heron", Role.PEER)
OTHER = Identity("u_other", "Calm Lake", Role.PEER)
FAC = Identity("s_fac", "fran", Role.FACILITATOR, staff_id="fac")
ADMIN = Identity("s_admin", "admin", Role.ADMIN, staff_id="admin")
