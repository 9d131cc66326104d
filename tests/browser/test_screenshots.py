"""Screenshots of each role (peer, facilitator, admin) on a phone and a desktop.

Taken on every run (into the test's temporary directory) so the pages they show keep working;
with HEARTH_SCREENSHOTS=1 they replace the committed ones in docs/screenshots/ (shown in the
README). A server of its own keeps other tests' rooms out of the pictures.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, Hearth, new_server
from tests.browser.ui import (
    DESKTOP,
    PHONE,
    admin_sign_in,
    flag_message,
    join,
    member_menu,
    message,
    message_action,
    peer,
    send,
    staff_sign_in,
)

pytestmark = pytest.mark.browser
DOCS = REPO / "docs" / "screenshots"


def _shoot(page: Any, name: str, tmp_path: Path) -> None:
    page.mouse.move(0, 0)
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("HEARTH_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / f"{name}.png").write_bytes(path.read_bytes())


def test_screenshots(new_page: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    server = new_server(tmp_path_factory)
    server.start()
    opened: list[Any] = []

    def new_page_here(path: str = "/", **options: Any) -> Any:
        page = new_page(path, base_url=server.base_url, **options)
        opened.append(page)
        return page

    try:
        hearth = Hearth(base_url=server.base_url, admin_password=server.admin_password, log_path=server.log_path)
        room = hearth.create_room(
            "Evening circle", id="evening-circle", topic="Gentle talk after a long day", message_ttl_s=86400
        )
        hearth.create_room("Grief and loss", id="grief", topic="For anyone missing someone")
        hearth.create_room("Night owls", id="night-owls", topic="Can't sleep? Come and sit with us", slow_mode_s=15)
        fac_password = hearth.create_staff("maya", "facilitator")

        def facilitator_maya(viewport: dict[str, int]) -> Any:
            page = new_page_here(viewport=viewport)
            staff_sign_in(page, "maya", fac_password, "facilitator")
            join(page, room)
            return page

        river = peer(new_page_here, "River Otter", room, viewport=PHONE)
        heron = peer(new_page_here, "Quiet Heron", room, viewport=DESKTOP)
        lake = peer(new_page_here, "Calm Lake", room, viewport=DESKTOP)
        staff = facilitator_maya(DESKTOP)

        send(staff, "Welcome, everyone. Take your time; there's no rush to say anything.")
        send(heron, "Hi all. Rough day, but I'm glad this place exists.")
        send(heron, "Evenings are the hardest part for me.")
        message_action(river, "Evenings are the hardest", "reply")
        send(river, "Same here. Once the house goes quiet it all gets louder.")
        send(lake, "Thank you both for saying it. I thought it was just me.")
        message_action(lake, "Evenings are the hardest", "react-hear_you")
        message_action(river, "Evenings are the hardest", "react-hear_you")
        message_action(staff, "Once the house goes quiet", "react-not_alone")
        send(heron, "It helps to hear that. Really.")
        message_action(river, "Thank you both", "react-thank_you")
        expect(message(river, "It helps to hear that")).to_be_visible()
        lake.get_by_test_id("composer").press_sequentially("Has anyone tried")
        expect(river.locator("#typing")).to_have_text("Calm Lake is typing…")
        river.get_by_test_id("composer").fill("Me too. Maybe we could")

        # Reactions that arrived after it did not push the latest message out of sight.
        expect(message(river, "It helps to hear that")).to_be_in_viewport(ratio=1)
        _shoot(river, "peer-phone", tmp_path)
        _shoot(heron, "peer-desktop", tmp_path)

        expect(member_menu(staff, "River Otter").locator('[role="menu"]')).to_be_visible()
        _shoot(staff, "facilitator-desktop", tmp_path)
        staff.keyboard.press("Escape")

        fac_phone = facilitator_maya(PHONE)
        expect(member_menu(fac_phone, "Quiet Heron").locator('[role="menu"]')).to_be_visible()
        _shoot(fac_phone, "facilitator-phone", tmp_path)

        flag_message(lake, "Once the house goes quiet", "Someone may be at risk", "They sound very low tonight.")
        for viewport, name in ((DESKTOP, "admin-desktop"), (PHONE, "admin-phone")):
            admin = new_page_here("/admin", viewport=viewport)
            admin_sign_in(admin, hearth)
            expect(admin.locator('#flags [data-urgent="true"]')).to_have_count(1)
            _shoot(admin, name, tmp_path)
    finally:
        for page in opened:  # before the server goes, so no page is left trying to reconnect
            page.context.close()
        server.stop()
