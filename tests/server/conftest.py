"""Server-test fixtures: a server whose clock only moves when the test moves it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from rooms.clock import ManualClock
from server.config import Config
from tests.conftest import Server, start_server

# The Version 1.1 fields of a room created with none of them set.
V11_DEFAULTS = {
    "guidelines": "",
    "guidelines_version": 0,
    "min_identity_age_s": 0,
    "admission": "open",
    "unattended": "open",
    "attended": False,
}


@pytest.fixture
def clock() -> ManualClock:
    # Starts at the real time: Redis expires mute and ban keys at absolute times (with a grace).
    return ManualClock(int(time.time() * 1000))


@pytest.fixture
async def clocked_server(config: Config, clock: ManualClock) -> AsyncIterator[Server]:
    """A real server on ``clock``; a module uses it for every test by defining ``server`` from it."""
    srv = await start_server(config, clock)
    yield srv
    await srv.runner.cleanup()
