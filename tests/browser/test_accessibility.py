"""Zero axe-core violations, of any impact, on every page and state, in light and dark.

axe-core runs inside Chromium on the real pages (vendored in tests/browser/vendor/, see its
README for why and for the checksum checked below). Every rule axe runs by default counts,
best practices included.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import (
    DESKTOP,
    VIEWPORTS,
    admin_page_sign_in,
    admin_room_card,
    admin_sign_in,
    admin_tab,
    facilitator,
    flag_message,
    join,
    member_menu,
    message,
    message_action,
    new_room,
    open_message_menu,
    peer,
    send,
    show_members,
    start,
)

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe-core 4.14.1

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " ")),
  }));
}"""


def _axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "tests/browser/vendor/axe.min.js changed"
    return source.decode()


def assert_accessible(page: Any, state: str) -> None:
    """Run axe in light and in dark mode; fail with every violation named."""
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        if not page.evaluate("typeof axe !== 'undefined'"):
            # Injected through the DevTools protocol, which the page's CSP does not govern.
            page.evaluate(_axe_source())
        for v in page.evaluate(RUN_AXE):
            problems.append(
                f"[{state}, {scheme}] {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
            )
    page.emulate_media(color_scheme="light")
    assert not problems, "axe-core found:\n" + "\n".join(problems)


@VIEWPORTS
def test_peer_pages_and_dialogs(hearth: Hearth, new_page: Any, viewport: dict[str, int]) -> None:
    room = new_room(hearth, topic="Gentle talk after a long day")
    second = new_room(hearth)
    page = new_page(viewport=viewport)
    expect(page.get_by_test_id("start")).to_be_visible()
    assert_accessible(page, "welcome")
    page.get_by_test_id("staff-signin").click()
    expect(page.locator("#staff-dialog")).to_be_visible()
    assert_accessible(page, "staff sign-in dialog")
    page.keyboard.press("Escape")

    start(page, "Open Window")
    assert_accessible(page, "room list")
    page.click("#account-button")
    expect(page.locator("#account-menu")).to_be_visible()
    assert_accessible(page, "account menu")
    page.keyboard.press("Escape")

    other = peer(new_page, "Kind Neighbour", room, viewport=DESKTOP)
    join(page, room)
    send(other, "Evenings are the hardest for me.")
    send(page, "مرحبا، أنا هنا أيضا")
    message_action(page, "Evenings are the hardest", "reply")
    assert_accessible(page, "composer with a reply")
    send(page, "Same here. You're not alone.")
    message_action(other, "Same here", "react-hear_you")
    expect(message(page, "Same here").locator('[data-reaction="hear_you"]')).to_be_visible()
    other.get_by_test_id("composer").press_sequentially("typing")
    expect(page.locator("#typing")).not_to_be_empty()
    assert_accessible(page, "in a room as a peer")

    open_message_menu(page, "Evenings are the hardest")
    expect(page.locator('[role="menu"]')).to_be_visible()
    assert_accessible(page, "message menu")
    page.keyboard.press("Escape")
    message_action(page, "Evenings are the hardest", "flag")
    expect(page.locator("#flag-dialog")).to_be_visible()
    assert_accessible(page, "flag dialog")
    page.keyboard.press("Escape")
    message_action(page, "Same here", "delete")
    expect(page.locator("dialog[open]")).to_be_visible()
    assert_accessible(page, "delete confirmation")
    page.keyboard.press("Escape")

    page.fill("#composer", "x" * 2010)
    expect(page.locator("#char-count")).to_be_visible()
    assert_accessible(page, "composer over the limit")
    page.fill("#composer", "")
    show_members(page)
    assert_accessible(page, "member list")
    page.keyboard.press("Escape")

    # Another room opened: the first stays joined and its unread count shows in the room list.
    back = page.locator("#back-button")
    if back.is_visible():  # on a phone the room list and the room take turns
        back.click()
    join(page, second)
    send(other, "Are you still there?")
    expect(page.locator(f'#room-list [data-room-id="{room["id"]}"] .unread-badge')).to_have_text("1 new message")
    assert_accessible(page, "in a room, with an unread count elsewhere")
    if back.is_visible():
        back.click()
        assert_accessible(page, "room list with an unread count")


@VIEWPORTS
def test_facilitator_with_a_member_menu_open(hearth: Hearth, new_page: Any, viewport: dict[str, int]) -> None:
    room = new_room(hearth)
    robin = peer(new_page, "Steady Robin", room, viewport=DESKTOP)
    send(robin, "hello from a peer")
    staff = facilitator(hearth, new_page, room, viewport=viewport)
    expect(staff.locator("#room-controls")).to_be_visible()
    assert_accessible(staff, "in a room as a facilitator")
    menu = member_menu(staff, "Steady Robin")
    expect(menu.locator('[role="menu"]')).to_be_visible()
    assert_accessible(staff, "member menu")
    menu.locator("summary").click()
    expect(menu.locator('[role="menu"]')).to_be_hidden()
    staff.keyboard.press("Escape")  # and the member drawer, on a phone
    staff.click("#lock-button")
    expect(staff.locator("#room-locked")).to_be_visible()
    expect(robin.get_by_test_id("composer")).to_be_disabled()
    assert_accessible(robin, "a locked room as a peer")


@VIEWPORTS
def test_admin_pages(hearth: Hearth, new_page: Any, viewport: dict[str, int]) -> None:
    room = new_room(hearth)
    worried = peer(new_page, "Worried Wren", room, viewport=DESKTOP)
    send(worried, "earlier words before it")
    send(worried, "I cannot see a way through this week")
    # One's own messages cannot be flagged: another member flags them.
    reporter = peer(new_page, "Watchful Wren", room, viewport=DESKTOP)
    flag_message(reporter, "I cannot see a way through this week", "Someone may be at risk")
    flag_message(reporter, "earlier words before it")

    admin = new_page("/admin", viewport=viewport)
    expect(admin.locator("#login-button")).to_be_visible()
    assert_accessible(admin, "admin sign-in")
    admin_sign_in(admin, hearth)
    expect(admin.locator('#flags [data-urgent="true"]').first).to_be_visible()
    assert_accessible(admin, "admin flags")
    for tab in ("audit", "staff", "rooms"):
        admin_tab(admin, tab)
        if tab == "rooms":
            expect(admin.locator("#rooms [data-room-id]").first).to_be_visible()
        assert_accessible(admin, f"admin {tab}")
    admin_room_card(admin, room).locator('[data-action="delete"]').click()
    expect(admin.locator("dialog[open]")).to_be_visible()
    assert_accessible(admin, "admin confirmation")
    admin.keyboard.press("Escape")

    name = f"fac-{secrets.token_hex(3)}"
    password = hearth.create_staff(name, "facilitator")
    other = new_page("/admin", viewport=viewport)
    admin_page_sign_in(other, name, password)
    expect(other.locator("#not-admin")).to_be_visible()
    assert_accessible(other, "admin page as a facilitator")


def test_reduced_motion_is_respected(hearth: Hearth, new_page: Any) -> None:
    page = new_page()
    page.emulate_media(reduced_motion="reduce")
    start(page, "Still Water")
    durations = page.evaluate(
        "() => [...document.querySelectorAll('*')].map((e) => getComputedStyle(e))"
        ".filter((s) => s.transitionDuration !== '0s' || s.animationName !== 'none' || s.scrollBehavior === 'smooth')"
        ".length"
    )
    assert durations == 0
