"""The echo app of tests/conformance/echo_app.py on a free port, for raw HTTP and websocket tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.conformance.echo_app import make_app


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()
