"""Moderation on the chat page (js/moderation-menu.js): waiting room, warnings, removal reasons, one menu per member.

Synchronisation is by Playwright's auto-waiting expectations only; no fixed sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import (
    admin_room_card,
    admin_sign_in,
    facilitator,
    member,
    member_menu,
    message,
    new_room,
    open_message_menu,
    peer,
    pick_room,
    send,
)

pytestmark = pytest.mark.browser


def test_waiting_room_admit(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth, admission="approval")
    staff = facilitator(hearth, new_page, room)
    knocking = peer(new_page, "Patient Heron")
    pick_room(knocking, room)
    expect(knocking.locator('[data-testid="waiting"]')).to_contain_text("A facilitator has been told you're here")
    expect(knocking.locator("#room-view")).to_be_hidden()

    entry = staff.locator('[data-testid="waiting-member"]').filter(has_text="Patient Heron")
    expect(entry).to_have_count(1)
    entry.locator('[data-action="admit"]').click()
    expect(knocking.locator("#room-name")).to_have_text(room["name"])
    expect(knocking.locator("#send-button")).to_be_enabled()
    expect(member(staff, "Patient Heron")).to_have_count(1)
    expect(staff.locator('[data-testid="waiting-member"]')).to_have_count(0)


def test_staff_who_arrive_later_see_who_is_waiting(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth, admission="approval")
    knocking = peer(new_page, "Early Wren")
    pick_room(knocking, room)
    expect(knocking.locator('[data-testid="waiting"]')).to_contain_text("the first to arrive will see you waiting")

    staff = facilitator(hearth, new_page, room)  # nobody was there to hear the first ask
    entry = staff.locator('[data-testid="waiting-member"]').filter(has_text="Early Wren")
    expect(entry).to_have_count(1, timeout=20_000)  # the waiting page asks again every 10 s
    entry.locator('[data-action="admit"]').click()
    expect(knocking.locator("#room-name")).to_have_text(room["name"])
    expect(member(staff, "Early Wren")).to_have_count(1)


def test_waiting_room_deny(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth, admission="approval")
    staff = facilitator(hearth, new_page, room)
    knocking = peer(new_page, "Hopeful Lark")
    pick_room(knocking, room)
    entry = staff.locator('[data-testid="waiting-member"]').filter(has_text="Hopeful Lark")
    entry.locator('[data-action="deny"]').click()
    expect(knocking.locator('[data-testid="removed-reason"]')).to_contain_text("You weren't let into this room")
    expect(knocking.locator('[data-testid="removed-reason"]')).to_contain_text("You may ask to join again later")


def test_warning_reaches_only_its_target(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    target = peer(new_page, "Loud Crow", room)
    other = peer(new_page, "Quiet Finch", room)
    staff = facilitator(hearth, new_page, room)

    menu = member_menu(staff, "Loud Crow")
    expect(menu.locator('[data-action="unmute"]')).to_have_count(0)  # only when muted
    menu.locator('[data-action="warn"]').click()
    expect(staff.locator('[data-testid="moderation-dialog"]')).to_be_visible()
    staff.fill('[data-testid="moderation-reason"]', "Please keep it kind, everyone is hurting here.")
    staff.click('[data-testid="moderation-confirm"]')
    expect(staff.locator("#notice")).to_contain_text("Your warning reached Loud Crow only")

    expect(target.locator('[data-testid="warning"]')).to_contain_text("Please keep it kind")
    send(staff, "a message after the warning")
    expect(message(other, "a message after the warning")).to_have_count(1)
    expect(other.locator('[data-testid="warning"]')).to_have_count(0)
    expect(other.locator("body")).not_to_contain_text("Please keep it kind")


def test_removal_reason_is_shown_to_the_removed_peer(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    removed = peer(new_page, "Restless Jay", room)
    staff = facilitator(hearth, new_page, room)

    member_menu(staff, "Restless Jay").locator('[data-action="ban"]').click()
    dialog = staff.locator('[data-testid="moderation-dialog"]')
    expect(dialog).to_contain_text("Remove and ban Restless Jay?")
    staff.fill('[data-testid="moderation-reason"]', "repeated insults after a warning")
    staff.select_option("#moderation-ban", "86400")
    staff.click('[data-testid="moderation-confirm"]')

    notice = removed.locator('[data-testid="removed-reason"]')
    expect(notice).to_contain_text("Reason: repeated insults after a warning")
    expect(notice).to_contain_text("You can come back after")
    expect(removed.locator("#room-view")).to_be_hidden()
    expect(member(staff, "Restless Jay")).to_have_count(0)


def test_cancel_keeps_the_member_and_mute_shows_unmute(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    muted = peer(new_page, "Gentle Moth", room)
    staff = facilitator(hearth, new_page, room)

    member_menu(staff, "Gentle Moth").locator('[data-action="remove"]').click()
    staff.click("#moderation-cancel")
    expect(member(staff, "Gentle Moth")).to_have_count(1)
    expect(muted.locator("#room-view")).to_be_visible()

    member_menu(staff, "Gentle Moth").locator('[data-action="mute-300"]').click()
    expect(muted.locator("#composer")).to_be_disabled()
    member_menu(staff, "Gentle Moth").locator('[data-action="unmute"]').click()
    expect(muted.locator("#composer")).to_be_enabled()


def test_no_flag_on_ones_own_messages(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    me = peer(new_page, "Calm Otter", room)
    other = peer(new_page, "Kind Badger", room)
    send(me, "my own words")
    # Flag sits in each message's menu (its "More" button): there for others' words, not one's own.
    for page, count in ((other, 1), (me, 0)):
        open_message_menu(page, "my own words")
        expect(page.locator('.menu [data-action="reply"]')).to_be_visible()
        expect(page.locator('.menu [data-action="flag"]')).to_have_count(count)
        page.keyboard.press("Escape")


def test_entry_settings_on_the_admin_page_and_the_facilitator_panel(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    admin = new_page("/admin")
    admin_sign_in(admin, hearth, "rooms")
    card = admin_room_card(admin, room)
    card.locator(f"#room-{room['id']}-admission").select_option("approval")
    card.locator(f"#room-{room['id']}-min-age").fill("3600")
    card.locator(f"#room-{room['id']}-unattended").select_option("read_only")
    card.locator('[data-action="save"]').click()
    expect(admin.locator("#notice")).to_contain_text("Saved")
    saved = [r for r in hearth.api("GET", "/api/rooms", token=hearth.admin_token)["rooms"] if r["id"] == room["id"]][0]
    assert (saved["admission"], saved["min_identity_age_s"], saved["unattended"]) == ("approval", 3600, "read_only")

    staff = facilitator(hearth, new_page, room)
    expect(staff.locator("#setting-admission")).to_have_value("approval")
    staff.select_option("#setting-admission", "open")
    expect(staff.locator("#notice")).not_to_contain_text("Couldn't change the room")
    peer(new_page, "Open Door", room)  # open again: no waiting


def test_removal_from_a_kept_room_names_that_room(hearth: Hearth, new_page: Any) -> None:
    kept, shown = new_room(hearth), new_room(hearth)
    reader = peer(new_page, "Wandering Wren", kept, shown)  # the room left on screen stays joined
    staff = facilitator(hearth, new_page, kept)
    expect(member(staff, "Wandering Wren")).to_have_count(1)

    member_menu(staff, "Wandering Wren").locator('[data-action="remove"]').click()
    staff.fill('[data-testid="moderation-reason"]', "please take a break for today")
    staff.click('[data-testid="moderation-confirm"]')
    expect(member(staff, "Wandering Wren")).to_have_count(0)

    notice = reader.locator('[data-testid="removed-reason"]')
    expect(notice).to_contain_text(f"You were removed from {kept['name']}")
    expect(notice).not_to_contain_text("this room")
    expect(notice).to_contain_text("Reason: please take a break for today")
    # The room on screen is untouched.
    expect(reader.locator("#room-name")).to_have_text(shown["name"])
    expect(reader.locator("#room-view")).to_be_visible()
    send(reader, "still here in the other room")
