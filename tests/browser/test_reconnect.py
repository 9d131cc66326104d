"""After a server restart the page is back within two seconds of the server answering again.

The server says `server:closing` before it closes the socket; the page then retries often
instead of backing off. Time is Playwright's fake clock, paused: the page is taken through
six seconds of downtime (each of its tries refused), and once the server answers again its
clock is moved on by exactly two seconds; the page must then be connected and back in its
room with no more of its timers run (a page still waiting out a longer backoff would not
try again, and the expectation would fail). No wall-clock measurement, no sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth, new_server
from tests.browser.ui import join, message, new_room, send, start

pytestmark = pytest.mark.browser


def test_page_is_back_within_two_seconds_of_a_restart(new_page: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    server = new_server(tmp_path_factory)
    server.start()
    try:
        hearth = Hearth(base_url=server.base_url, admin_password=server.admin_password, log_path=server.log_path)
        room = new_room(hearth)
        page = new_page(
            base_url=server.base_url,
            before_goto=lambda p: p.clock.install(),
            allowed_console=("WebSocket connection to",),
        )
        start(page, "Steady Lamp")
        join(page, room)
        send(page, "before the restart")

        # From here on the page's timers run only when the test moves its clock.
        page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # seconds since the epoch
        server.stop()  # SIGTERM: every socket gets server:closing, then is closed
        expect(page.locator('body[data-socket="disconnected"]')).to_have_count(1)
        expect(page.locator("#notice")).to_contain_text("Hearth is restarting")
        # Six seconds of downtime: the page keeps trying (each try is refused) at least every 1.5 s.
        for _ in range(4):
            with page.expect_console_message(lambda m: "ERR_CONNECTION_REFUSED" in m.text):
                page.clock.run_for(1500)

        server.start()  # returns once /healthz answers
        page.clock.run_for(2000)
        expect(page.locator('body[data-socket="connected"]')).to_have_count(1)
        expect(page.locator("#room-name")).to_have_text(room["name"])
        expect(message(page, "before the restart")).to_have_count(1)
        page.clock.resume()
        send(page, "after the restart")
        expect(message(page, "after the restart")).to_have_count(1)
    finally:
        server.stop()
