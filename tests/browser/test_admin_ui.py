"""The admin pages on a phone and a desktop: names rather than ids, urgent flags first and
marked, lock told from unlock, nothing wider than the screen."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import (
    DESKTOP,
    VIEWPORTS,
    admin_sign_in,
    admin_tab,
    assert_page_does_not_scroll_sideways,
    flag_message,
    new_room,
    peer,
    send,
)

pytestmark = pytest.mark.browser


@VIEWPORTS
def test_admin_sees_names_urgent_flags_and_lock_words(hearth: Hearth, new_page: Any, viewport: dict[str, int]) -> None:
    room = new_room(hearth)
    word = secrets.token_hex(3)
    author = peer(new_page, "Abcdefghijklmnopqrstuvwxyz012345", room, viewport=DESKTOP)
    send(author, f"spam spam {word}")
    send(author, f"I don't know how much longer I can do this {word}")
    # One's own messages cannot be flagged: another member flags them.
    reporter = peer(new_page, "Watchful Wren", room, viewport=DESKTOP)
    flag_message(reporter, f"spam spam {word}", "Spam")
    flag_message(reporter, f"how much longer I can do this {word}", "Someone may be at risk")
    admin_token = hearth.admin_token
    hearth.api("PATCH", f"/api/rooms/{room['id']}", {"locked": True}, admin_token)
    hearth.api("PATCH", f"/api/rooms/{room['id']}", {"locked": False}, admin_token)

    admin = new_page("/admin", viewport=viewport)
    admin_sign_in(admin, hearth)
    ours = admin.locator("#flags [data-flag-id]").filter(has_text=word)
    expect(ours).to_have_count(2)
    urgent = ours.filter(has=admin.locator(".snapshot", has_text="how much longer"))
    expect(urgent).to_have_attribute("data-urgent", "true")
    expect(urgent.locator(".urgent-tag")).to_have_text("Urgent: someone may be at risk")
    spam = ours.filter(has=admin.locator(".snapshot", has_text="spam spam"))
    expect(spam).to_have_attribute("data-urgent", "false")
    # Urgent flags come first in the queue.
    order = admin.locator("#flags [data-flag-id]").evaluate_all("(ns) => ns.map((n) => n.dataset.urgent)")
    assert order == sorted(order, key=lambda u: u != "true")
    # The room by its name, not its id; the author by pseudonym.
    expect(urgent.locator(".card-head")).to_contain_text(f"Room: {room['name']}")
    expect(urgent.locator(".card-head")).not_to_contain_text(room["id"])
    expect(urgent.locator(".snapshot .author")).to_have_text("Abcdefghijklmnopqrstuvwxyz012345")
    # The reporter by the pseudonym the room saw, though they never wrote a message there.
    for card in (urgent, spam):
        expect(card.locator(".flag-reporter")).to_have_text("Reported by Watchful Wren")
    assert_page_does_not_scroll_sideways(admin, viewport)

    admin_tab(admin, "audit")
    admin.select_option("#audit-room", room["id"])
    admin.click("#audit-refresh")
    rows = admin.locator("#audit tbody tr")
    expect(rows.filter(has_text="room.update")).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Unlocked the room")
    expect(rows.nth(1)).to_contain_text("Locked the room")
    expect(rows.nth(0)).to_contain_text(room["name"])
    expect(admin.locator("#audit-room option:checked")).to_have_text(room["name"])
