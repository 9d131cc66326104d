"""The chat page as people use it on a phone (390×844) and a desktop (1280×800): only the message
list scrolls, long names and right-to-left text fit, live cues, deep links, keyboard-only use.

Synchronisation is by Playwright's auto-waiting expectations only; no fixed sleeps.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import (
    DESKTOP,
    PHONE,
    VIEWPORTS,
    assert_on_screen,
    assert_page_does_not_scroll,
    facilitator,
    join,
    keyboard_opens_and_escape_closes,
    member,
    message,
    message_action,
    new_room,
    peer,
    pick_room,
    send,
    start,
)

pytestmark = pytest.mark.browser

LONG_NAME = "Abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, no space to break at
RTL_TEXT = "مرحبا، هل يوجد أحد هنا الليلة؟"


@VIEWPORTS
def test_a_busy_room_fits_the_screen(hearth: Hearth, new_page: Any, viewport: dict[str, int]) -> None:
    room = new_room(hearth, topic="Evenings are the hardest part of the day for many of us")
    staff = facilitator(hearth, new_page, room, viewport=DESKTOP)
    long_named = peer(new_page, LONG_NAME, room, viewport=viewport)
    send(long_named, RTL_TEXT)
    for i in range(1, 30):
        send(staff, f"Message {i}: thank you all for being here tonight, it means a lot.")
    expect(long_named.locator("#messages [data-message-id]")).to_have_count(30)

    # The latest message and the composer are on screen; the page itself never scrolls.
    latest = message(long_named, "Message 29:")
    expect(latest).to_be_in_viewport()
    assert_on_screen(latest, viewport)
    assert_on_screen(long_named.locator("#composer"), viewport)
    assert_on_screen(long_named.get_by_test_id("send"), viewport)
    assert_page_does_not_scroll(long_named, viewport)
    scrolls = "() => { const m = document.getElementById('messages'); return m.scrollHeight > m.clientHeight; }"
    assert long_named.evaluate(scrolls), "the message list scrolls by itself"

    # Right-to-left text runs right to left; the long name is cut short with the full name kept.
    rtl = message(long_named, RTL_TEXT)
    assert rtl.locator(".text").evaluate("e => getComputedStyle(e).direction") == "rtl"
    author = rtl.locator(".author")
    expect(author).to_have_attribute("title", LONG_NAME)
    expect(author).to_have_attribute("dir", "auto")
    rtl.scroll_into_view_if_needed()
    assert_on_screen(author, viewport)
    assert_on_screen(long_named.get_by_test_id("identity-name"), viewport)

    # Consecutive messages of one author are grouped: one name shown for the run.
    assert staff.locator("#messages .message.continued").count() >= 28

    # The flag dialog fits and its button can be pressed, even for the long name.
    message_action(long_named, "Message 29:", "flag")
    dialog = long_named.locator("#flag-dialog")
    expect(dialog).to_be_visible()
    assert_on_screen(dialog, viewport)
    long_named.click("#flag-submit")
    expect(long_named.locator("#notice")).to_have_text("Thanks, a moderator will review it.")
    assert_page_does_not_scroll(long_named, viewport)


@VIEWPORTS
def test_staff_sign_in_is_a_small_link(hearth: Hearth, new_page: Any, viewport: dict[str, int]) -> None:
    page = new_page(viewport=viewport)
    expect(page.get_by_test_id("start")).to_be_visible()
    expect(page.locator("#staff-name")).to_be_hidden()
    link = page.get_by_test_id("staff-signin")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box is not None and box["height"] < 60
    assert_page_does_not_scroll(page, viewport)
    start(page, "Quiet Fern")
    expect(page.locator("#staff-name")).to_be_hidden()
    assert_page_does_not_scroll(page, viewport)


def test_empty_room_list_says_who_opens_rooms(hearth: Hearth, new_page: Any, tmp_path: Any) -> None:
    page = new_page()
    start(page, "First Visitor")
    expect(page.locator("#room-list [data-room-id]").first).to_be_visible()  # rooms of other tests exist
    # With no rooms at all (an empty list from the server), the page says who creates them.
    page.route("**/api/rooms", lambda route: route.fulfill(json={"rooms": []}))
    page.click("#rooms-refresh-button")
    expect(page.locator("#room-list-empty")).to_be_visible()
    expect(page.locator("#room-list-empty")).to_contain_text("staff")


def test_new_messages_pill_and_unread_title(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    staff = facilitator(hearth, new_page, room, viewport=DESKTOP)
    for i in range(1, 41):
        send(staff, f"Earlier words {i}")
    reader = peer(new_page, "Slow Reader", room, viewport=PHONE)
    expect(reader).to_have_title(f"{room['name']} · Hearth")
    sizes = reader.evaluate(
        "() => { const m = document.getElementById('messages');"
        " return [m.scrollHeight, m.clientHeight, m.querySelectorAll('[data-message-id]').length]; }"
    )
    assert sizes[0] > sizes[1] + 300, sizes
    reader.evaluate("document.getElementById('messages').scrollTop = 0")
    pill = reader.locator("#new-messages-pill")
    expect(pill).to_be_hidden()

    send(staff, "Something new while you read back")
    expect(pill).to_have_text(re.compile(r"^1 new message"))
    expect(reader).to_have_title(f"(1) {room['name']} · Hearth")
    send(staff, "And another")
    expect(pill).to_have_text(re.compile(r"^2 new messages"))
    expect(reader).to_have_title(f"(2) {room['name']} · Hearth")
    # New messages from others are announced politely.
    expect(reader.locator("#announcer")).to_have_text(re.compile(r": And another$"))
    expect(reader.locator("#announcer")).to_have_attribute("aria-live", "polite")

    pill.click()
    expect(pill).to_be_hidden()
    expect(reader).to_have_title(f"{room['name']} · Hearth")
    expect(message(reader, "And another")).to_be_in_viewport()


def test_unread_counts_per_room_and_in_the_title(hearth: Hearth, new_page: Any) -> None:
    first, second = new_room(hearth), new_room(hearth)
    writer = peer(new_page, "Busy Writer", first)
    reader = peer(new_page, "Two Rooms", first, second)  # the room left on screen stays joined
    badge = reader.locator(f'#room-list [data-room-id="{first["id"]}"] .unread-badge')
    expect(badge).to_have_count(0)
    expect(reader).to_have_title(f"{second['name']} · Hearth")

    send(writer, "One for the room you are not looking at")
    expect(badge).to_have_text("1 new message")  # the number, and the words for screen readers
    expect(badge.locator(".visually-hidden")).to_have_text(" new message")
    expect(reader).to_have_title(f"(1) {second['name']} · Hearth")
    send(writer, "And a second one")
    expect(badge).to_have_text("2 new messages")
    expect(reader).to_have_title(f"(2) {second['name']} · Hearth")
    # The reader's own room has nothing new, and the writer still sees the reader in theirs.
    expect(reader.locator(f'#room-list [data-room-id="{second["id"]}"] .unread-badge')).to_have_count(0)
    expect(member(writer, "Two Rooms")).to_be_visible()
    # On a phone the room list hides behind the "Rooms" button, which carries the count.
    reader.set_viewport_size(PHONE)
    expect(reader.locator("#back-button")).to_have_text("Rooms 2 new messages in other rooms")
    reader.set_viewport_size(DESKTOP)

    # After a reload the page joins both rooms again and counts what came since from history.
    reader.reload()
    expect(reader.locator("#room-name")).to_have_text(second["name"])
    send(writer, "A third while you were reloading")
    expect(badge).to_have_text("3 new messages")
    expect(reader).to_have_title(f"(3) {second['name']} · Hearth")

    # Opening the room clears its count; the room just left starts counting from now.
    join(reader, first)
    expect(badge).to_have_count(0)
    expect(reader).to_have_title(f"{first['name']} · Hearth")
    expect(message(reader, "A third while you were reloading")).to_be_visible()
    expect(reader.locator(f'#room-list [data-room-id="{second["id"]}"] .unread-badge')).to_have_count(0)

    # "Leave room" leaves for good: no more counts from it.
    reader.click("#leave-button")
    expect(reader.locator("#room-view")).to_be_hidden()
    expect(member(writer, "Two Rooms")).to_have_count(0)


def test_character_counter_and_notices_that_clear(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = peer(new_page, "Careful Writer", room)
    counter = page.locator("#char-count")
    state = page.locator("#composer-state")
    expect(counter).to_be_hidden()
    page.fill("#composer", "x" * 1850)
    expect(counter).to_have_text("1850 / 2000")
    page.fill("#composer", "x" * 2003)
    expect(state).to_have_text(re.compile(r"That's 3 characters too long"))
    expect(page.get_by_test_id("send")).to_be_disabled()
    page.fill("#composer", "x" * 1990)
    expect(state).to_be_empty()
    expect(page.get_by_test_id("send")).to_be_enabled()
    send(page, "a shorter message")
    expect(counter).to_be_hidden()

    # A refused send says why; the notice goes once a send works again.
    hearth.api("PATCH", f"/api/rooms/{room['id']}", {"slow_mode_s": 300}, hearth.admin_token)
    expect(page.locator("#room-slow")).to_be_visible()
    send(page, "the first one is fine")
    page.fill("#composer", "too soon")
    page.press("#composer", "Enter")
    expect(page.locator("#notice")).to_contain_text("in slow mode")
    hearth.api("PATCH", f"/api/rooms/{room['id']}", {"slow_mode_s": 0}, hearth.admin_token)
    expect(page.locator("#room-slow")).to_be_hidden()
    page.press("#composer", "Enter")
    expect(page.locator("#composer")).to_have_value("")
    expect(page.locator("#notice")).not_to_contain_text("in slow mode")


def test_deep_link_opens_the_room_after_the_identity_step(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = new_page(f"/?room={room['id']}")
    start(page, "Linked Visitor")
    expect(page.locator("#room-name")).to_have_text(room["name"])
    expect(page.get_by_test_id("composer")).to_be_focused()
    assert page.url.endswith(f"/?room={room['id']}")
    page.click("#leave-button")
    expect(page.locator("#room-view")).to_be_hidden()
    assert page.url.endswith("/")


def test_keyboard_only_flow(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = new_page()
    page.get_by_test_id("pseudonym-input").focus()
    page.keyboard.type("Key Board")
    page.keyboard.press("Enter")
    # Focus is never lost to the page body after "Start".
    expect(page.locator("#rooms-title")).to_be_focused()
    link = page.locator(f'#room-list [data-room-id="{room["id"]}"] button')
    expect(link).to_be_visible()
    for _ in range(200):  # past the rooms other tests made
        if link.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("composer")).to_be_focused()
    page.keyboard.type("typed with keys only")
    page.keyboard.press("Enter")
    mine = message(page, "typed with keys only")
    expect(mine).to_have_count(1)
    expect(page.get_by_test_id("composer")).to_be_focused()

    # Shift+Tab reaches the latest message; Enter opens its menu; Escape closes it again.
    page.keyboard.press("Shift+Tab")
    expect(mine).to_be_focused()
    page.keyboard.press("Enter")
    menu = page.locator('[role="menu"]')
    expect(menu).to_be_visible()
    expect(menu.locator('[data-action="reply"]')).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.locator('[data-action="react-hear_you"]')).to_be_focused()
    page.keyboard.press("End")
    expect(menu.locator('[data-action="delete"]')).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(mine.locator('[data-action="more"]')).to_be_focused()

    # The members drawer and the account menu open and close from the keyboard too.
    page.get_by_test_id("composer").focus()
    page.keyboard.press("Escape")
    keyboard_opens_and_escape_closes(
        page, page.locator("#account-button"), page.locator("#new-identity-button"), page.locator("#account-menu")
    )


def test_staff_sign_in_dialog_by_keyboard(hearth: Hearth, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    keyboard_opens_and_escape_closes(
        page, page.get_by_test_id("staff-signin"), page.locator("#staff-name"), page.locator("#staff-dialog")
    )


def test_phone_shows_one_pane_at_a_time(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = peer(new_page, "Pocket Reader", room, viewport=PHONE)
    expect(page.locator("#rooms-panel")).to_be_hidden()
    page.click("#back-button")
    expect(page.locator("#rooms-panel")).to_be_visible()
    expect(page.locator("#room-view")).to_be_hidden()
    pick_room(page, room)
    expect(page.locator("#room-view")).to_be_visible()
    page.click("#members-button")
    expect(page.locator("#members-panel")).to_be_visible()
    expect(page.locator("#members-title")).to_be_focused()
    assert_on_screen(page.locator("#members-panel"), PHONE)
    page.keyboard.press("Escape")
    expect(page.locator("#members-panel")).to_be_hidden()
    expect(page.locator("#members-button")).to_be_focused()
    assert_page_does_not_scroll(page, PHONE)
