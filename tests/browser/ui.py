"""Steps on the chat page and the admin page shared by the browser tests (by their ids and data-testid hooks)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
FLAG_THANKS = "Thanks, a moderator will review it."


def new_room(hearth: Hearth, **settings: Any) -> dict[str, Any]:
    suffix = secrets.token_hex(3)
    return hearth.create_room(f"Evening circle {suffix}", id=f"circle-{suffix}", **settings)


def start(page: Any, pseudonym: str | None = None) -> str:
    """Get an identity on a fresh chat page; returns the pseudonym shown."""
    expect(page.locator("#start-button")).to_be_visible()
    if pseudonym:
        page.fill("#pseudonym-input", pseudonym)
    page.click("#start-button")
    name = page.locator("#identity-name")
    if pseudonym:
        expect(name).to_have_text(pseudonym)
    else:
        expect(name).not_to_be_empty()
    return str(name.text_content())


def pick_room(page: Any, room: dict[str, Any]) -> None:
    """Click a room in the room list, without waiting for the join (guidelines, a waiting room...)."""
    page.locator(f'#room-list [data-room-id="{room["id"]}"] button').click()


def join(page: Any, room: dict[str, Any]) -> None:
    pick_room(page, room)
    expect(page.locator("#room-name")).to_have_text(room["name"])
    expect(page.locator("#send-button")).to_be_enabled()


def send(page: Any, text: str) -> None:
    page.fill("#composer", text)
    page.press("#composer", "Enter")
    expect(page.locator("#composer")).to_have_value("")


def message(page: Any, text: str) -> Any:
    return page.locator("#messages [data-message-id]").filter(has=page.locator(".text", has_text=text))


def member(page: Any, pseudonym: str) -> Any:
    return page.locator("#members [data-member-id]").filter(has=page.locator(".member-name", has_text=pseudonym))


def show_members(page: Any) -> None:
    """On a narrow screen the member list is a drawer behind the "People" button."""
    if page.locator("#members-button").is_visible() and not page.locator("#members-panel").is_visible():
        page.click("#members-button")
        expect(page.locator("#members-panel")).to_be_visible()


def member_menu(page: Any, pseudonym: str) -> Any:
    """Open a member's menu (staff only); returns it."""
    show_members(page)
    menu = member(page, pseudonym).locator('[data-testid="member-menu"]')
    menu.locator("summary").click()
    return menu


def member_action(page: Any, pseudonym: str, action: str) -> None:
    """Open a member's menu and choose an action (data-action) in it."""
    member_menu(page, pseudonym).locator(f'[data-action="{action}"]').click()


def open_message_menu(page: Any, text: str) -> None:
    """Open a message's menu: its "More" button, shown on hover."""
    target = message(page, text)
    target.hover()
    target.locator('[data-action="more"]').click()


def message_action(page: Any, text: str, action: str) -> None:
    """Open a message's menu and choose an action in it."""
    open_message_menu(page, text)
    page.locator(f'[role="menu"] [data-action="{action}"]').click()


def flag_message(page: Any, text: str, reason: str | None = None, note: str | None = None) -> None:
    """Flag a message through its menu and the flag dialog; the page thanks the flagger."""
    message_action(page, text, "flag")
    dialog = page.locator("#flag-dialog")
    expect(dialog).to_be_visible()
    if reason is not None:
        page.select_option("#flag-reason", reason)
    if note is not None:
        page.fill("#flag-text", note)
    page.click("#flag-submit")
    expect(page.locator("#notice")).to_have_text(FLAG_THANKS)
    expect(dialog).to_be_hidden()


def staff_sign_in(page: Any, name: str, password: str, role: str) -> None:
    page.get_by_test_id("staff-signin").click()
    expect(page.locator("#staff-dialog")).to_be_visible()
    page.fill("#staff-name", name)
    page.fill("#staff-password", password)
    page.click("#staff-login-button")
    expect(page.locator("#identity-role")).to_have_text(role)
    expect(page.locator("#identity-name")).to_have_text(name)


def peer(new_page: Any, pseudonym: str, *rooms: dict[str, Any], viewport: dict[str, int] | None = None) -> Any:
    """A fresh chat page with an identity, joined to each room given in turn."""
    page = new_page(viewport=viewport)
    start(page, pseudonym)
    for room in rooms:
        join(page, room)
    return page


def facilitator(
    hearth: Hearth,
    new_page: Any,
    *rooms: dict[str, Any],
    name: str | None = None,
    viewport: dict[str, int] | None = None,
) -> Any:
    """A new facilitator account signed in on a fresh chat page, joined to each room given."""
    name = name or f"fac-{secrets.token_hex(3)}"
    password = hearth.create_staff(name, "facilitator")
    page = new_page(viewport=viewport)
    staff_sign_in(page, name, password, "facilitator")
    for room in rooms:
        join(page, room)
    return page


def admin_page_sign_in(page: Any, name: str, password: str) -> None:
    """Fill in and send the sign-in form on the admin page (/admin)."""
    expect(page.locator("#login-button")).to_be_visible()
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-button")


def admin_tab(page: Any, tab: str) -> None:
    """Open a tab of the admin page (flags, audit, staff, rooms)."""
    page.click(f"#tab-{tab}")
    expect(page.locator(f"#panel-{tab}")).to_be_visible()


def admin_sign_in(page: Any, hearth: Hearth, tab: str | None = None) -> None:
    """Sign in as the bootstrap admin on the admin page; waits until the review console shows,
    then opens `tab` if one is given."""
    admin_page_sign_in(page, "admin", hearth.admin_password)
    expect(page.locator("#console")).to_be_visible()
    if tab is not None:
        admin_tab(page, tab)


def admin_room_card(page: Any, room: dict[str, Any]) -> Any:
    """A room's card in the admin page's Rooms tab."""
    return page.locator(f'#rooms [data-room-id="{room["id"]}"]')


def assert_page_does_not_scroll_sideways(page: Any, viewport: dict[str, int]) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"page is {width} px wide"


def assert_page_does_not_scroll(page: Any, viewport: dict[str, int]) -> None:
    size = page.evaluate(
        "() => ({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight,"
        " x: window.scrollX, y: window.scrollY})"
    )
    assert size["w"] <= viewport["width"], f"page is {size['w']} px wide"
    assert size["h"] <= viewport["height"], f"page is {size['h']} px tall"
    assert (size["x"], size["y"]) == (0, 0)


def assert_on_screen(locator: Any, viewport: dict[str, int]) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= viewport["width"] + 0.5, box
    assert box["y"] + box["height"] <= viewport["height"] + 0.5, box


def keyboard_opens_and_escape_closes(page: Any, opener: Any, first_focus: Any, panel: Any) -> None:
    """Enter on `opener` opens `panel` with focus on `first_focus`; Escape closes it and gives focus back."""
    opener.focus()
    page.keyboard.press("Enter")
    expect(first_focus).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(opener).to_be_focused()
