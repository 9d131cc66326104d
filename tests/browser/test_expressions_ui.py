"""Replies, supportive reactions, deleting one's own message and typing cues, in the browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import DESKTOP, PHONE, join, message, message_action, new_room, send, start

pytestmark = pytest.mark.browser


def test_reply_react_and_delete_own_message(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    river = new_page(viewport=PHONE)
    lake = new_page(viewport=DESKTOP)
    start(river, "River Otter")
    start(lake, "Calm Lake")
    join(river, room)
    join(lake, room)
    send(river, "Evenings are the hardest for me.")

    # Lake replies: the composer shows what is being answered, the reply quotes the original.
    message_action(lake, "Evenings are the hardest", "reply")
    expect(lake.locator("#reply-preview")).to_be_visible()
    expect(lake.locator("#reply-author")).to_have_text("River Otter")
    expect(lake.get_by_test_id("composer")).to_be_focused()
    send(lake, "Same for me. You're not alone.")
    expect(lake.locator("#reply-preview")).to_be_hidden()
    for page in (river, lake):
        quote = message(page, "Same for me").locator(".quote")
        expect(quote).to_contain_text("River Otter")
        expect(quote).to_contain_text("Evenings are the hardest for me.")

    # Lake reacts from the message's menu; River sees the count and adds the same reaction.
    message_action(lake, "Evenings are the hardest", "react-hear_you")
    chip = message(river, "Evenings are the hardest").locator('[data-reaction="hear_you"]')
    expect(chip).to_have_text(re.compile(r"I hear you\s*1"))
    expect(chip).to_have_attribute("aria-pressed", "false")
    chip.click()
    expect(chip).to_have_text(re.compile(r"I hear you\s*2"))
    expect(chip).to_have_attribute("aria-pressed", "true")
    lake_chip = message(lake, "Evenings are the hardest").locator('[data-reaction="hear_you"]')
    expect(lake_chip).to_have_text(re.compile(r"I hear you\s*2"))
    # After a reload Lake still sees its own reaction marked.
    lake.reload()
    expect(lake_chip).to_have_attribute("aria-pressed", "true")
    lake_chip.click()
    expect(chip).to_have_text(re.compile(r"I hear you\s*1"))

    # River deletes their own message (after confirming); the reply says the original is gone.
    message_action(river, "Evenings are the hardest", "delete")
    river.locator('dialog[open] [data-action="confirm"]').click()
    for page in (river, lake):
        expect(message(page, "Evenings are the hardest")).to_have_count(0)
        expect(message(page, "Same for me").locator(".quote")).to_have_text(re.compile("no longer available"))

    # Lake cannot delete River's messages: no "Delete" in the menu of someone else's message.
    send(river, "one more from river")
    target = message(lake, "one more from river")
    target.hover()
    target.locator('[data-action="more"]').click()
    expect(lake.locator('[role="menu"] [data-action="flag"]')).to_be_visible()
    expect(lake.locator('[role="menu"] [data-action="delete"]')).to_have_count(0)
    lake.keyboard.press("Escape")


def test_typing_indicator(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    pages = [new_page(viewport=PHONE) for _ in range(5)]
    names = ["Reader One", "Typist Two", "Typist Three", "Typist Four", "Typist Five"]
    for page, name in zip(pages, names, strict=True):
        start(page, name)
        join(page, room)
    reader = pages[0]
    typing = reader.locator("#typing")
    pages[1].get_by_test_id("composer").press_sequentially("hel")
    expect(typing).to_have_text("Typist Two is typing…")
    pages[2].get_by_test_id("composer").press_sequentially("hi")
    expect(typing).to_have_text(re.compile(r"^Typist (Two|Three) and Typist (Two|Three) are typing…$"))
    pages[3].get_by_test_id("composer").press_sequentially("hey")
    expect(typing).to_have_text(re.compile(r"^Typist \w+, Typist \w+ and Typist \w+ are typing…$"))
    pages[4].get_by_test_id("composer").press_sequentially("yo")
    expect(typing).to_have_text("Several people are typing…")
    # Sending ends that member's cue at once.
    for page in pages[2:]:
        page.get_by_test_id("composer").press("Enter")
    expect(typing).to_have_text("Typist Two is typing…")
    # The typist never sees their own cue.
    expect(pages[1].locator("#typing")).not_to_contain_text("Typist Two")


def test_long_press_opens_the_message_menu_on_a_touch_screen(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = new_page(viewport=PHONE)
    start(page, "Thumb User")
    join(page, room)
    send(page, "pressed and held")
    text = message(page, "pressed and held").locator(".text")
    box = text.bounding_box()
    assert box is not None
    point = {"clientX": box["x"] + 5, "clientY": box["y"] + 5, "pointerType": "touch", "bubbles": True}
    text.dispatch_event("pointerdown", point)
    menu = page.locator('[role="menu"]')
    expect(menu).to_be_visible()  # after the long-press delay, with no pointerup in between
    expect(menu.locator('[data-action="reply"]')).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
