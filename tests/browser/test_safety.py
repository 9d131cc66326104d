"""Safety on the chat page (docs/SAFETY.md) against the real server, driven through Chromium.

Synchronisation is by Playwright's auto-waiting expectations only; no fixed sleeps.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hearth
from tests.browser.ui import (
    admin_room_card,
    admin_sign_in,
    facilitator,
    flag_message,
    message,
    new_room,
    peer,
    pick_room,
    send,
    start,
)

pytestmark = pytest.mark.browser

EXIT_URL = "https://www.bbc.co.uk/weather"


def _private(page: Any) -> Any:
    """Whatever only the person concerned (or staff) should ever see."""
    return page.locator(
        '[data-testid="support-reply"], [data-testid="alert"], #help-dialog[open], [data-testid="support-resources"] li'
    )


def test_guidelines_dialog_before_a_first_join_accepted_once(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth, guidelines="Be kind.\nNo real names, please.")
    page = peer(new_page, "Gentle Wren")
    pick_room(page, room)
    dialog = page.get_by_test_id("guidelines-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("guidelines-text")).to_have_text("Be kind.\nNo real names, please.")
    page.get_by_test_id("guidelines-accept").click()
    expect(page.locator("#room-name")).to_have_text(room["name"])
    expect(dialog).to_be_hidden()

    # The room shows them again on request, without asking to accept.
    page.get_by_test_id("show-guidelines").click()
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("guidelines-accept")).to_be_hidden()
    page.locator("#guidelines-decline").click()

    # Accepted once: a reload joins straight away.
    page.reload()
    expect(page.locator("#room-name")).to_have_text(room["name"])
    expect(page.locator("#send-button")).to_be_enabled()
    expect(dialog).to_be_hidden()


def test_a_help_request_is_answered_privately(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    name = f"fac-{secrets.token_hex(3)}"
    staff = facilitator(hearth, new_page, room, name=name)
    asker = peer(new_page, "Tired Finch", room)
    bystander = peer(new_page, "Calm Lake", room)

    asker.get_by_test_id("need-help").click()
    expect(asker.get_by_test_id("help-dialog")).to_be_visible()
    expect(asker.get_by_test_id("support-resources")).to_contain_text("Samaritans")  # at once, before asking
    asker.get_by_test_id("help-text").fill("rough night, could someone talk?")
    asker.get_by_test_id("help-send").click()
    expect(asker.get_by_test_id("help-status")).to_contain_text("A facilitator in this room has been told")

    alert = staff.locator('[data-testid="alert"][data-kind="request"]')
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Tired Finch")
    expect(alert).to_contain_text("rough night, could someone talk?")
    alert.get_by_test_id("alert-reply-text").fill("I'm here. Want to talk?")
    alert.get_by_test_id("alert-reply-send").click()
    expect(alert).to_contain_text("Sent privately to Tired Finch")

    reply = asker.get_by_test_id("support-reply")
    expect(reply).to_contain_text("I'm here. Want to talk?")
    expect(reply).to_contain_text(name)

    # A crisis message: the sender gets resources at once, staff an urgent alert in context.
    asker.locator("#help-close").click()
    send(asker, "honestly I want to end my life")
    expect(asker.get_by_test_id("help-dialog")).to_be_visible()
    expect(asker.locator("#help-lead")).to_contain_text("You don't have to go through this alone")
    crisis = staff.locator('[data-testid="alert"][data-kind="crisis"]')
    expect(crisis).to_have_count(1)
    expect(crisis.locator(".alert-message")).to_contain_text("honestly I want to end my life")
    asker.locator("#help-close").click()

    # The bystander sees the messages and nothing else.
    send(asker, "thank you")
    expect(message(bystander, "thank you")).to_have_count(1)
    expect(message(bystander, "honestly I want to end my life")).to_have_count(1)
    expect(_private(bystander)).to_have_count(0)
    expect(bystander.get_by_test_id("alerts")).to_have_count(0)


def test_quick_exit_leaves_no_way_back(hearth: Hearth, new_page: Any) -> None:
    def neutral_page(page: Any) -> None:
        page.route(EXIT_URL, lambda route: route.fulfill(status=200, content_type="text/html", body="<p>Weather</p>"))

    page = new_page(before_goto=neutral_page)
    start(page, "Hidden Moth")
    page.get_by_test_id("quick-exit").click()
    expect(page).to_have_url(EXIT_URL)
    page.go_back()
    assert not page.url.startswith(hearth.base_url), page.url

    # Escape pressed twice does the same from anywhere on the page.
    second = new_page(before_goto=neutral_page)
    expect(second.get_by_test_id("quick-exit")).to_be_visible()
    second.keyboard.press("Escape")
    second.keyboard.press("Escape")
    expect(second).to_have_url(EXIT_URL)
    second.go_back()
    assert not second.url.startswith(hearth.base_url), second.url

    # A modal dialog makes the page inert: it carries its own quick exit.
    room = new_room(hearth, guidelines="Take care of each other.")
    third = new_page(before_goto=neutral_page)
    start(third, "Still Heron")
    pick_room(third, room)
    dialog = third.get_by_test_id("guidelines-dialog")
    expect(dialog).to_be_visible()
    dialog.locator(".quick-exit").click()
    expect(third).to_have_url(EXIT_URL)


def test_contact_details_warning_before_sending(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    page = peer(new_page, "Quiet Owl", room)
    warning = page.get_by_test_id("contact-warning")

    page.fill("#composer", "write to me at sam.owl@example.com")
    page.press("#composer", "Enter")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("an email address")
    page.get_by_test_id("contact-edit").click()
    expect(warning).to_be_hidden()
    expect(page.locator("#composer")).to_have_value("write to me at sam.owl@example.com")
    expect(message(page, "sam.owl@example.com")).to_have_count(0)

    page.fill("#composer", "call me on +44 7700 900123 or find @quietowl")
    page.press("#composer", "Enter")
    expect(warning).to_contain_text("a phone number")
    expect(warning).to_contain_text("an @handle")
    page.get_by_test_id("contact-send").click()
    expect(message(page, "call me on +44 7700 900123")).to_have_count(1)

    send(page, "nothing personal in this one")  # no warning for ordinary words
    expect(message(page, "nothing personal in this one")).to_have_count(1)

    samples = {
        "mail me: river@example.org": ["an email address"],
        "ring 020 7946 0958 tonight": ["a phone number"],
        "see https://example.org/me": ["a link"],
        "my insta is @river.otter": ["an @handle"],
        "I live at 221B Baker Street": ["a street address"],
        "wohne in der Hauptstraße 12": ["a street address"],
        "it happened on 12.05.2024 at 10:30": [],
        "I slept 8 hours and walked 12000 steps": [],
        "feeling low, 3 days now": [],
    }
    found = page.evaluate(
        "async (samples) => { const m = await import('/static/js/safety.js');"
        " return Object.fromEntries(samples.map((s) => [s, m.contactKinds(s)])); }",
        list(samples),
    )
    assert found == samples


def test_forget_me_removes_the_stored_identity(hearth: Hearth, new_page: Any) -> None:
    page = new_page()
    start(page, "Passing Swift")
    page.click("#account-button")  # "Forget me" sits in the account menu
    page.get_by_test_id("forget-me").click()
    expect(page.locator("#start-button")).to_be_visible()
    keys = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('hearth.'))")
    assert keys == []


def test_admin_page_puts_crisis_flags_first_and_shows_alerts_live(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    low = peer(new_page, "Low Heron", room)
    reporter = peer(new_page, "Kind Robin", room)
    send(low, "an ordinary remark")
    flag_message(reporter, "an ordinary remark", "Spam")
    send(low, "I wish I was dead")  # no facilitator in the room: a crisis flag

    admin = new_page("/admin")
    admin_sign_in(admin, hearth)
    expect(admin.locator('body[data-socket="connected"]')).to_have_count(1)
    flags = admin.locator("#flags [data-flag-id]")
    crisis = flags.filter(has=admin.locator(".snapshot", has_text="I wish I was dead"))
    expect(crisis).to_have_count(1)
    expect(crisis.get_by_test_id("urgent")).to_be_visible()
    ordinary = flags.filter(has=admin.locator(".snapshot", has_text="an ordinary remark"))
    expect(ordinary).to_have_count(1)
    expect(ordinary.get_by_test_id("urgent")).to_have_count(0)
    urgent = flags.evaluate_all("(items) => items.map((i) => i.dataset.urgent === 'true')")
    assert urgent[0] is True and urgent == sorted(urgent, reverse=True), urgent

    low.locator("#help-close").click()
    low.get_by_test_id("need-help").click()
    low.get_by_test_id("help-text").fill("is anyone there")
    low.get_by_test_id("help-send").click()
    expect(low.get_by_test_id("help-status")).to_contain_text("No facilitator is in this room right now")
    live = admin.locator('[data-testid="admin-alert"][data-kind="request"]')
    expect(live).to_contain_text("is anyone there")
    expect(live).to_contain_text("Low Heron")
    request_flag = admin.locator("#flags [data-flag-id]").filter(has=admin.get_by_test_id("help-request"))
    expect(request_flag).not_to_have_count(0)
    # Who asked, by the name the room saw (kept sealed with the flag).
    expect(request_flag.locator(".flag-reporter", has_text="Asked for help: Low Heron")).not_to_have_count(0)


def test_admin_edits_a_rooms_guidelines_and_peers_see_the_new_version(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    admin = new_page("/admin")
    admin_sign_in(admin, hearth, "rooms")
    card = admin_room_card(admin, room)
    card.get_by_test_id("room-guidelines").fill("Listen first.")
    card.locator('[data-action="save-safety"]').click()
    expect(admin.locator("#notice")).to_contain_text("guidelines version 1")

    starling = peer(new_page, "New Starling")
    pick_room(starling, room)
    expect(starling.get_by_test_id("guidelines-text")).to_have_text("Listen first.")


def test_a_facilitator_edits_guidelines_from_the_room(hearth: Hearth, new_page: Any) -> None:
    room = new_room(hearth)
    staff = facilitator(hearth, new_page, room)
    staff.get_by_test_id("edit-guidelines").click()
    staff.get_by_test_id("edit-guidelines-text").fill("One voice at a time.")
    staff.get_by_test_id("edit-guidelines-save").click()
    expect(staff.locator("#notice")).to_contain_text("Guidelines saved (version 1)")

    dunlin = peer(new_page, "Shy Dunlin")
    expect(dunlin.get_by_test_id("edit-guidelines")).to_have_count(0)
    pick_room(dunlin, room)
    expect(dunlin.get_by_test_id("guidelines-text")).to_have_text("One voice at a time.")
    dunlin.get_by_test_id("guidelines-accept").click()
    expect(dunlin.locator("#room-name")).to_have_text(room["name"])
    expect(dunlin.get_by_test_id("edit-guidelines")).to_be_hidden()
    # No facilitator needed to read them: the banner tells the peer when none is present.
    expect(dunlin.get_by_test_id("unattended-banner")).to_be_hidden()
    staff.locator("#leave-button").click()
    expect(dunlin.get_by_test_id("unattended-banner")).to_be_visible()
    expect(dunlin.get_by_test_id("unattended-banner")).to_contain_text("No facilitator is in this room right now")
