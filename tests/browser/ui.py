"""Steps on the chat page shared by the browser tests (by its ids and data-testid hooks)."""

from __future__ import annotations

import secrets
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Hearth

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


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


def join(page: Any, room: dict[str, Any]) -> None:
    page.locator(f'#room-list [data-room-id="{room["id"]}"] button').click()
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


def member_action(page: Any, pseudonym: str, action: str) -> None:
    """Open a member's menu and choose an action (data-action) in it."""
    show_members(page)
    row = member(page, pseudonym)
    row.locator('[data-testid="member-menu"] summary').click()
    row.locator(f'[data-action="{action}"]').click()


def message_action(page: Any, text: str, action: str) -> None:
    """Open a message's menu (its "More" button, shown on hover) and choose an action in it."""
    target = message(page, text)
    target.hover()
    target.locator('[data-action="more"]').click()
    page.locator(f'[role="menu"] [data-action="{action}"]').click()


def staff_sign_in(page: Any, name: str, password: str, role: str) -> None:
    page.get_by_test_id("staff-signin").click()
    expect(page.locator("#staff-dialog")).to_be_visible()
    page.fill("#staff-name", name)
    page.fill("#staff-password", password)
    page.click("#staff-login-button")
    expect(page.locator("#identity-role")).to_have_text(role)
    expect(page.locator("#identity-name")).to_have_text(name)
