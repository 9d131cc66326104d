"""The browser client (web/) against the real server, driven through Chromium.

Synchronisation is by Playwright's auto-waiting expectations only; no fixed sleeps.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import (
    admin_page_sign_in,
    admin_sign_in,
    admin_tab,
    assert_page_does_not_scroll_sideways,
    facilitator,
    flag_message,
    join,
    member,
    member_action,
    message,
    message_action,
    new_room,
    peer,
    pick_room,
    send,
    start,
)

pytestmark = pytest.mark.browser


def test_two_peers_see_each_others_messages_live(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth, topic="Gentle talk after a long day")
    alice = new_page()
    bob = new_page()
    start(alice, "River Otter")
    bob_name = start(bob)  # the server picks one

    item = alice.locator(f'#room-list [data-room-id="{room["id"]}"]')
    expect(item).to_contain_text(room["name"])
    expect(item).to_contain_text("Gentle talk after a long day")
    expect(item).to_contain_text("Messages disappear after 24 hours")

    join(alice, room)
    join(bob, room)
    expect(alice.locator("#room-ttl")).to_have_text("Messages disappear after 24 hours")
    expect(member(alice, bob_name)).to_have_count(1)
    expect(member(bob, "River Otter")).to_have_count(1)
    expect(item).to_contain_text("2 people here")  # the room list follows joins live

    send(alice, "Hello, is anyone around tonight?")
    seen = message(bob, "Hello, is anyone around tonight?")
    expect(seen).to_have_count(1)
    expect(seen.locator(".author")).to_have_text("River Otter")

    send(bob, "I'm here.\nGlad you came.")
    reply = message(alice, "Glad you came.")
    expect(reply.locator(".author")).to_have_text(bob_name)
    expect(reply.locator(".text")).to_have_text("I'm here.\nGlad you came.")
    # Alice's own message is shown once (ack and message:new are merged), oldest first.
    expect(alice.locator("#messages [data-message-id] .text")).to_have_text(
        ["Hello, is anyone around tonight?", "I'm here.\nGlad you came."]
    )

    # A late joiner gets the history, oldest first.
    carol = peer(new_page, "Late Heron", room)
    expect(carol.locator("#messages [data-message-id] .text")).to_have_text(
        ["Hello, is anyone around tonight?", "I'm here.\nGlad you came."]
    )
    expect(member(alice, "Late Heron")).to_have_count(1)


def test_reload_keeps_identity_and_room(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = peer(new_page, "Quiet Fern", room)
    send(page, "still here after a reload?")

    page.reload()
    expect(page.locator("#identity-name")).to_have_text("Quiet Fern")
    expect(page.locator("#welcome")).to_be_hidden()
    expect(page.locator("#room-name")).to_have_text(room["name"])
    expect(message(page, "still here after a reload?").locator(".author")).to_have_text("Quiet Fern")
    expect(member(page, "Quiet Fern")).to_have_count(1)

    # "New identity" (in the account menu) forgets it.
    page.click("#account-button")
    page.click("#new-identity-button")
    expect(page.locator("#start-button")).to_be_visible()
    page.reload()
    expect(page.locator("#start-button")).to_be_visible()


def test_refused_pseudonym_is_a_readable_notice(hearth: Hearth, new_page: Any) -> None:
    page = new_page()
    page.fill("#pseudonym-input", "Admin")
    page.click("#start-button")
    expect(page.locator("#notice")).to_contain_text("That name can't be used")
    expect(page.locator("#start-button")).to_be_visible()
    start(page, "Calm Willow")


def test_message_text_is_rendered_as_text_not_html(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    sender = new_page()
    reader = new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (sender, reader):
        page.on("dialog", on_dialog)
    start(sender, "Curious Finch")
    start(reader, "Patient Owl")
    join(sender, room)
    join(reader, room)

    payload = "<img src=x onerror=alert(1)>"
    send(sender, payload)
    send(sender, "<b>not bold</b> & <script>alert(2)</script>")
    for page in (sender, reader):
        shown = message(page, "<b>not bold</b>")
        expect(shown).to_have_count(1)
        text = message(page, payload).locator(".text")
        expect(text).to_have_count(1)
        assert text.text_content() == payload
        assert page.locator("#messages img").count() == 0
        assert page.locator("#messages b, #messages script").count() == 0
    assert dialogs == []


def test_facilitator_mutes_a_peer_whose_sends_then_fail(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    muted = peer(new_page, "Steady Robin", room)
    staff = facilitator(hearth, new_page, room)
    expect(staff.locator("#room-controls")).to_be_visible()
    target = member(staff, "Steady Robin")
    expect(target).to_have_count(1)
    # Peers do not get moderation controls.
    expect(muted.get_by_test_id("member-menu")).to_have_count(0)

    member_action(staff, "Steady Robin", "mute-300")
    expect(staff.locator("#notice")).to_contain_text("Steady Robin is muted for 5 minutes")
    expect(muted.locator("#notice")).to_contain_text("muted you for 5 minutes")
    expect(muted.locator("#composer")).to_be_disabled()
    expect(muted.locator("#send-button")).to_be_disabled()
    expect(target.locator(".muted-tag")).to_be_visible()

    # After a reload the join ack tells the page about the mute: it shows it and cannot send.
    muted.reload()
    expect(muted.locator("#room-name")).to_have_text(room["name"])
    expect(muted.locator("#composer-state")).to_contain_text(re.compile(r"You're muted for \d+ minutes? more"))
    expect(muted.locator("#composer")).to_be_disabled()
    expect(muted.locator("#send-button")).to_be_disabled()

    member_action(staff, "Steady Robin", "unmute")
    expect(muted.locator("#notice")).to_contain_text("You've been unmuted")
    expect(muted.locator("#composer")).to_be_enabled()
    send(muted, "thank you, I'm back")
    expect(message(staff, "thank you, I'm back")).to_have_count(1)

    # Staff can delete a message; it leaves every view.
    message_action(staff, "thank you, I'm back", "delete")
    staff.locator('dialog[open] [data-action="confirm"]').click()
    expect(message(muted, "thank you, I'm back")).to_have_count(0)
    expect(message(staff, "thank you, I'm back")).to_have_count(0)

    # Remove with a 24 h ban: the peer is told and leaves the room view.
    member_action(staff, "Steady Robin", "ban")
    staff.select_option("#moderation-ban", "86400")
    staff.click('[data-testid="moderation-confirm"]')
    expect(muted.locator("#notice")).to_contain_text("You were removed from this room")
    expect(muted.locator("#notice")).to_contain_text("can't rejoin until")
    expect(muted.locator("#room-view")).to_be_hidden()
    expect(member(staff, "Steady Robin")).to_have_count(0)
    pick_room(muted, room)
    expect(muted.locator("#notice")).to_contain_text("You can't join this room until")


def test_room_lock_from_the_chat_page(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    locked = peer(new_page, "Soft Rain", room)
    staff = facilitator(hearth, new_page, room)

    staff.click("#lock-button")
    expect(staff.locator("#lock-button")).to_have_text("Unlock room")
    expect(locked.locator("#room-locked")).to_be_visible()
    expect(locked.locator("#composer")).to_be_disabled()
    staff.select_option("#slow-mode-select", "30")
    expect(locked.locator("#room-slow")).to_contain_text("30 seconds")
    staff.click("#lock-button")
    expect(locked.locator("#room-locked")).to_be_hidden()
    expect(locked.locator("#composer")).to_be_enabled()


def test_peer_flags_a_message_and_admin_resolves_it(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    author = peer(new_page, "Loud Crow", room)
    reporter = peer(new_page, "Watchful Wren", room)
    send(author, "earlier words for context")
    send(author, "something that worries people")

    admin = new_page("/admin")
    admin_sign_in(admin, hearth)
    expect(admin.locator("#tab-flags")).to_be_visible()
    expect(admin.locator('body[data-socket="connected"]')).to_have_count(1)

    flag_message(reporter, "something that worries people", "Someone may be at risk", "they sounded very low")

    # flag:new puts it in the open queue without a reload.
    flag = admin.locator("#flags [data-flag-id]").filter(has_text="something that worries people")
    expect(flag).to_have_count(1)
    expect(flag).to_contain_text("Someone may be at risk: they sounded very low")
    expect(flag.locator(".snapshot .author")).to_have_text("Loud Crow")
    # The server's `context` extension: what came just before the flagged message.
    expect(flag.locator(".context .text")).to_have_text(["earlier words for context"])

    admin.reload()
    flag = admin.locator("#flags [data-flag-id]").filter(has_text="something that worries people")
    expect(flag).to_have_count(1)
    flag.locator(".flag-note").fill("checked in with the room")
    flag.locator('[data-action="delete_message"]').click()
    expect(admin.locator("#notice")).to_have_text("Message deleted and flag closed.")
    expect(flag).to_have_count(0)
    expect(message(author, "something that worries people")).to_have_count(0)
    expect(message(reporter, "something that worries people")).to_have_count(0)
    expect(message(reporter, "earlier words for context")).to_have_count(1)

    admin.select_option("#flag-status", "actioned")
    done = admin.locator("#flags [data-flag-id]").filter(has_text="something that worries people")
    expect(done.locator(".resolution")).to_contain_text("delete_message by admin")
    expect(done.locator(".resolution")).to_contain_text("checked in with the room")

    admin_tab(admin, "audit")
    admin.select_option("#audit-room", room["id"])
    admin.click("#audit-refresh")
    expect(admin.locator("#audit tbody tr").filter(has_text="flag.delete_message")).to_have_count(1)
    expect(admin.locator("#audit")).not_to_contain_text("something that worries people")


def test_admin_page_manages_staff_and_rooms(hearth: Hearth, new_page: Any) -> None:
    admin = new_page("/admin")
    admin_sign_in(admin, hearth, "rooms")

    suffix = secrets.token_hex(3)
    admin.fill("#room-create-name", f"Morning walk {suffix}")
    admin.fill("#room-create-topic", "Small steps")
    admin.click("#room-create-button")
    card = admin.locator("#rooms [data-room-id]").filter(has_text=f"Morning walk {suffix}")
    expect(card).to_have_count(1)

    early = peer(new_page, "Early Lark")
    expect(early.locator("#room-list")).to_contain_text(f"Morning walk {suffix}")

    admin_tab(admin, "staff")
    fac = f"fac-{suffix}"
    admin.fill("#staff-add-name", fac)
    admin.fill("#staff-add-password", "a long enough password 1")
    admin.click("#staff-add-button")
    row = admin.locator("#staff-list [data-staff-name]").filter(has_text=fac)
    expect(row).to_contain_text("facilitator")

    # A facilitator cannot use the review pages and is told so plainly.
    other = new_page("/admin")
    admin_page_sign_in(other, fac, "a long enough password 1")
    expect(other.locator("#not-admin")).to_be_visible()
    expect(other.locator("#console")).to_be_hidden()

    row.locator('[data-action="remove-staff"]').click()
    admin.locator('dialog[open] [data-action="confirm"]').click()
    expect(row).to_have_count(0)

    admin_tab(admin, "rooms")
    card.locator('[data-action="delete"]').click()
    admin.locator('dialog[open] [data-action="confirm"]').click()
    expect(card).to_have_count(0)


def test_chat_page_fits_a_phone(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    small = {"width": 360, "height": 740}
    page = peer(new_page, "Small Screen", room, viewport=small)
    send(page, "typed on a phone")
    expect(message(page, "typed on a phone")).to_be_visible()
    assert_page_does_not_scroll_sideways(page, small)


def test_messages_leave_the_view_when_they_expire(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth, message_ttl_s=60)
    # The page's clock is Playwright's fake clock, so a minute passes without waiting for it.
    page = new_page(before_goto=lambda p: p.clock.install())
    start(page, "Brief Moth")
    expect(page.locator(f'#room-list [data-room-id="{room["id"]}"]')).to_contain_text(
        "Messages disappear after 1 minute"
    )
    join(page, room)
    send(page, "this will fade")
    expect(message(page, "this will fade")).to_have_count(1)
    page.clock.fast_forward(30_000)
    expect(message(page, "this will fade")).to_have_count(1)
    page.clock.fast_forward(32_000)
    expect(message(page, "this will fade")).to_have_count(0)


def test_refused_token_gets_a_new_session(hearth: Hearth, new_page: Any) -> None:
    page = new_page()
    page.evaluate(
        """localStorage.setItem("hearth.session", JSON.stringify(
             {token: "forged.token", identity: {id: "u_x", pseudonym: "Kind Badger", role: "peer"}}))"""
    )
    page.reload()
    expect(page.locator("#notice")).to_contain_text("Hearth started a new one")
    expect(page.locator("#identity-name")).to_have_text("Kind Badger")
    expect(page.locator('body[data-socket="connected"]')).to_have_count(1)
    token = page.evaluate('JSON.parse(localStorage.getItem("hearth.session")).token')
    assert token != "forged.token"
