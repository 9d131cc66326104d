"""Moderation on the chat page (js/moderation-menu.js): waiting room, warnings, removal reasons, one menu per member.

Synchronisation is by Playwright's auto-waiting expectations only; no fixed sleeps.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.test_pages import _join, _member, _message, _room, _send, _staff_sign_in, _start

pytestmark = pytest.mark.browser


def _facilitator(hearth: Hearth, new_page: Any) -> Any:
    name = f"fac-{secrets.token_hex(3)}"
    password = hearth.create_staff(name, "facilitator")
    page = new_page()
    _staff_sign_in(page, name, password, "facilitator")
    return page


def _menu(page: Any, pseudonym: str) -> Any:
    menu = _member(page, pseudonym).locator('[data-testid="member-menu"]')
    menu.locator("summary").click()
    return menu


def test_waiting_room_admit(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth, admission="approval")
    staff = _facilitator(hearth, new_page)
    _join(staff, room)
    peer = new_page()
    _start(peer, "Patient Heron")
    peer.locator(f'#room-list [data-room-id="{room["id"]}"] button').click()
    expect(peer.locator('[data-testid="waiting"]')).to_contain_text("A facilitator has been told you're here")
    expect(peer.locator("#room-view")).to_be_hidden()

    entry = staff.locator('[data-testid="waiting-member"]').filter(has_text="Patient Heron")
    expect(entry).to_have_count(1)
    entry.locator('[data-action="admit"]').click()
    expect(peer.locator("#room-name")).to_have_text(room["name"])
    expect(peer.locator("#send-button")).to_be_enabled()
    expect(_member(staff, "Patient Heron")).to_have_count(1)
    expect(staff.locator('[data-testid="waiting-member"]')).to_have_count(0)


def test_staff_who_arrive_later_see_who_is_waiting(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth, admission="approval")
    peer = new_page()
    _start(peer, "Early Wren")
    peer.locator(f'#room-list [data-room-id="{room["id"]}"] button').click()
    expect(peer.locator('[data-testid="waiting"]')).to_contain_text("the first to arrive will see you waiting")

    staff = _facilitator(hearth, new_page)  # nobody was there to hear the first ask
    _join(staff, room)
    entry = staff.locator('[data-testid="waiting-member"]').filter(has_text="Early Wren")
    expect(entry).to_have_count(1, timeout=20_000)  # the waiting page asks again every 10 s
    entry.locator('[data-action="admit"]').click()
    expect(peer.locator("#room-name")).to_have_text(room["name"])
    expect(_member(staff, "Early Wren")).to_have_count(1)


def test_waiting_room_deny(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth, admission="approval")
    staff = _facilitator(hearth, new_page)
    _join(staff, room)
    peer = new_page()
    _start(peer, "Hopeful Lark")
    peer.locator(f'#room-list [data-room-id="{room["id"]}"] button').click()
    entry = staff.locator('[data-testid="waiting-member"]').filter(has_text="Hopeful Lark")
    entry.locator('[data-action="deny"]').click()
    expect(peer.locator('[data-testid="removed-reason"]')).to_contain_text("You weren't let into this room")
    expect(peer.locator('[data-testid="removed-reason"]')).to_contain_text("You may ask to join again later")


def test_warning_reaches_only_its_target(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth)
    target, other = new_page(), new_page()
    _start(target, "Loud Crow")
    _start(other, "Quiet Finch")
    _join(target, room)
    _join(other, room)
    staff = _facilitator(hearth, new_page)
    _join(staff, room)

    menu = _menu(staff, "Loud Crow")
    expect(menu.locator('[data-action="unmute"]')).to_have_count(0)  # only when muted
    menu.locator('[data-action="warn"]').click()
    expect(staff.locator('[data-testid="moderation-dialog"]')).to_be_visible()
    staff.fill('[data-testid="moderation-reason"]', "Please keep it kind, everyone is hurting here.")
    staff.click('[data-testid="moderation-confirm"]')
    expect(staff.locator("#notice")).to_contain_text("Your warning reached Loud Crow only")

    expect(target.locator('[data-testid="warning"]')).to_contain_text("Please keep it kind")
    _send(staff, "a message after the warning")
    expect(_message(other, "a message after the warning")).to_have_count(1)
    expect(other.locator('[data-testid="warning"]')).to_have_count(0)
    expect(other.locator("body")).not_to_contain_text("Please keep it kind")


def test_removal_reason_is_shown_to_the_removed_peer(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth)
    peer = new_page()
    _start(peer, "Restless Jay")
    _join(peer, room)
    staff = _facilitator(hearth, new_page)
    _join(staff, room)

    _menu(staff, "Restless Jay").locator('[data-action="ban"]').click()
    dialog = staff.locator('[data-testid="moderation-dialog"]')
    expect(dialog).to_contain_text("Remove and ban Restless Jay?")
    staff.fill('[data-testid="moderation-reason"]', "repeated insults after a warning")
    staff.select_option("#moderation-ban", "86400")
    staff.click('[data-testid="moderation-confirm"]')

    notice = peer.locator('[data-testid="removed-reason"]')
    expect(notice).to_contain_text("Reason: repeated insults after a warning")
    expect(notice).to_contain_text("You can come back after")
    expect(peer.locator("#room-view")).to_be_hidden()
    expect(_member(staff, "Restless Jay")).to_have_count(0)


def test_cancel_keeps_the_member_and_mute_shows_unmute(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth)
    peer = new_page()
    _start(peer, "Gentle Moth")
    _join(peer, room)
    staff = _facilitator(hearth, new_page)
    _join(staff, room)

    _menu(staff, "Gentle Moth").locator('[data-action="remove"]').click()
    staff.click("#moderation-cancel")
    expect(_member(staff, "Gentle Moth")).to_have_count(1)
    expect(peer.locator("#room-view")).to_be_visible()

    _menu(staff, "Gentle Moth").locator('[data-action="mute-300"]').click()
    expect(peer.locator("#composer")).to_be_disabled()
    menu = _menu(staff, "Gentle Moth")
    menu.locator('[data-action="unmute"]').click()
    expect(peer.locator("#composer")).to_be_enabled()


def test_no_flag_on_ones_own_messages(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth)
    me, other = new_page(), new_page()
    _start(me, "Calm Otter")
    _start(other, "Kind Badger")
    _join(me, room)
    _join(other, room)
    _send(me, "my own words")
    # Flag sits in each message's menu (its "More" button): there for others' words, not one's own.
    for page, count in ((other, 1), (me, 0)):
        target = _message(page, "my own words")
        target.hover()
        target.locator('[data-action="more"]').click()
        expect(page.locator('.menu [data-action="reply"]')).to_be_visible()
        expect(page.locator('.menu [data-action="flag"]')).to_have_count(count)
        page.keyboard.press("Escape")


def test_entry_settings_on_the_admin_page_and_the_facilitator_panel(hearth: Hearth, new_page: Any) -> None:
    room = _room(hearth)
    admin = new_page("/admin")
    admin.fill("#login-name", "admin")
    admin.fill("#login-password", hearth.admin_password)
    admin.click("#login-button")
    admin.click("#tab-rooms")
    card = admin.locator(f'#rooms [data-room-id="{room["id"]}"]')
    card.locator(f"#room-{room['id']}-admission").select_option("approval")
    card.locator(f"#room-{room['id']}-min-age").fill("3600")
    card.locator(f"#room-{room['id']}-unattended").select_option("read_only")
    card.locator('[data-action="save"]').click()
    expect(admin.locator("#notice")).to_contain_text("Saved")
    saved = [r for r in hearth.api("GET", "/api/rooms", token=hearth.admin_token)["rooms"] if r["id"] == room["id"]][0]
    assert (saved["admission"], saved["min_identity_age_s"], saved["unattended"]) == ("approval", 3600, "read_only")

    staff = _facilitator(hearth, new_page)
    _join(staff, room)
    expect(staff.locator("#setting-admission")).to_have_value("approval")
    staff.select_option("#setting-admission", "open")
    expect(staff.locator("#notice")).not_to_contain_text("Couldn't change the room")
    peer = new_page()
    _start(peer, "Open Door")
    _join(peer, room)  # open again: no waiting
