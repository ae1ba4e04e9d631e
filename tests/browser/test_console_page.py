"""The moderator console (/console) in Chromium: a moderator removes a message from a room they
watch and a participant's open page shows the tombstone without reloading, and an admin finds
the removal in the audit trail; a crisis alert appears live in the console's queue, is
announced and acknowledged; on a phone, hold for review and a lock set in the console take
effect live and a held message is approved from the queue; a mute and a warning reach the
person at once, and the console rejoins its rooms after the server drops its socket; a ban
says that the invite link the person joined with was withdrawn; reports
arrive live, one item per message, and are dismissed; a participant is told there is nothing
to moderate. axe-core finds no serious or critical violation on the screens visited (light
and dark)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from server.protocol import CloseCode
from tests.browser.axe import axe_source, serious_violations
from tests.browser.layout import layout_problems
from tests.browser.pages import DESKTOP, PHONE, Problems, new_page, open_room, sign_in
from tests.browser.test_accessibility_page import SETTLED
from tests.support.lifecycle_cast import enroll
from tests.support.seed import Account
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser

HARMFUL = "You are all worthless and should give up"
CRISIS = "I want to end it all tonight"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def open_console(browser: Browser, world: World, who: Account, problems: Problems, width: int = DESKTOP) -> Page:
    """The console's own sign-in form (the same session cookie as the chat)."""
    page = await new_page(browser, problems, width)
    await page.goto(world.live.url + "/console")
    form = page.locator("#login-form")
    await form.get_by_label("Username").fill(who.username)
    await form.get_by_label("Password").fill(who.password)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#console-view")).to_be_visible()
    return page


async def watched_message(console: Page, text: str) -> Locator:
    """The message with ``text`` in the console's view of the Spring room."""
    await console.get_by_role("button", name=re.compile("^Rooms")).click()
    await console.locator("#watch-list").get_by_role("button", name=re.compile("^Spring")).click()
    return console.locator("#watch-messages li", has_text=text)


async def no_serious_violations(page: Page, source: str, screen: str) -> list[str]:
    found = []
    for scheme in ("dark", "light"):
        await page.emulate_media(color_scheme=scheme)
        await page.evaluate(SETTLED)
        found += [f"{screen}, {scheme}: {v}" for v in await serious_violations(page, source)]
    return found


async def test_a_moderator_removes_a_message_and_the_participants_page_shows_the_tombstone_live(
    browser: Browser, world: World, artifacts: Path
) -> None:
    source = axe_source()
    problems = Problems()
    cast = world.cast
    pat_socket = await world.socket(cast.participant)
    harmful = await pat_socket.say(cast.cohort_room, HARMFUL)
    assert harmful["type"] == "ack"
    assert (await pat_socket.say(cast.cohort_room, "Sorry, rough day."))["type"] == "ack"

    pat = await new_page(browser, problems)
    await sign_in(pat, world.live.url, cast.participant)
    await open_room(pat, "Spring")
    await expect(pat.locator("#message-list .msg-body")).to_have_text([HARMFUL, "Sorry, rough day."])

    kim = await open_console(browser, world, cast.staff_here, problems)
    await kim.get_by_role("button", name=re.compile("^Rooms")).click()
    await expect(kim.locator("#rooms-title")).to_be_focused()
    await kim.locator("#watch-list").get_by_role("button", name=re.compile("^Spring")).click()
    await expect(kim.locator("#watch-room-title")).to_have_text("Spring")
    await expect(kim.locator("#watch-room-online")).to_contain_text("Pat (@pat)")  # staff see usernames
    message = kim.locator("#watch-messages li", has_text=HARMFUL)
    await expect(message.locator(".watch-msg-author")).to_have_text("Pat (@pat)")

    # Live activity: a new message reaches the console while it is open.
    assert (await pat_socket.say(cast.cohort_room, "Is anyone else up?"))["type"] == "ack"
    await expect(kim.locator("#watch-messages .watch-msg-body").last).to_have_text("Is anyone else up?")
    await pat_socket.close()

    # Escape cancels a dialog and gives focus back to the button that opened it.
    remove = message.get_by_role("button", name=re.compile("^Remove"))
    await remove.click()
    dialog = kim.get_by_role("dialog", name="Remove message")
    await expect(dialog).to_be_visible()
    await kim.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(remove).to_be_focused()
    await kim.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#action-about")).to_contain_text(HARMFUL)  # as text, quoted
    await expect(dialog.get_by_label(re.compile("^Reason"))).to_be_focused()
    found = await no_serious_violations(kim, source, "console remove dialog")
    await kim.screenshot(path=str(artifacts / "console-remove-dialog-1280.png"))
    await dialog.get_by_label(re.compile("^Reason")).fill("Hurtful to the group")
    await dialog.get_by_role("button", name="Remove message").click()
    await expect(dialog).to_be_hidden()

    # The participant's page: the tombstone, no reload; the other messages stay.
    await expect(pat.locator("#message-list .msg-tombstone")).to_have_count(1)
    await expect(pat.locator("#message-list .msg-body")).to_have_text(
        [re.compile("removed by a moderator", re.IGNORECASE), "Sorry, rough day.", "Is anyone else up?"]
    )
    await expect(pat.get_by_text(HARMFUL)).to_have_count(0)
    # And the console's own view of the room.
    await expect(kim.locator("#watch-messages .msg-tombstone")).to_have_text(["Removed by a moderator"])
    await expect(kim.get_by_text(HARMFUL)).to_have_count(0)
    await expect(kim.locator("#announcer")).to_contain_text("Message removed.")

    found += await no_serious_violations(kim, source, "console rooms")
    await kim.screenshot(path=str(artifacts / "console-rooms-1280.png"))
    await expect(kim.get_by_role("button", name="Audit trail")).to_be_hidden()  # admins only

    # An admin finds the removal in the audit trail, filtered by its action.
    admin = await open_console(browser, world, cast.admin, problems)
    await admin.get_by_role("button", name="Audit trail").click()
    await admin.get_by_label("Action", exact=True).select_option(label="Removed a message")
    await admin.get_by_role("button", name="Show entries").click()
    entries = admin.locator("#audit-list .audit-text")
    await expect(entries).to_have_count(1)
    await expect(entries).to_have_text(
        f"Kim (@kim) · Removed a message · Pat (@pat) · in Spring · seq {harmful['seq']} · reason: Hurtful to the group"
    )
    await entries.locator("..").get_by_role("button", name="Actions on Pat").click()
    await expect(admin.get_by_label("Person acted on (user id)")).to_have_value(str(cast.participant.person.id))
    await expect(admin.locator("#audit-status")).to_be_focused()
    await expect(entries).to_have_count(1)  # still filtered by the action too
    found += await no_serious_violations(admin, source, "console audit trail")
    await admin.screenshot(path=str(artifacts / "console-audit-1280.png"))
    assert found == []
    assert problems == []


async def test_a_crisis_alert_appears_live_in_the_console_and_is_acknowledged(
    browser: Browser, world: World, artifacts: Path
) -> None:
    source = axe_source()
    problems = Problems()
    cast = world.cast
    kim = await open_console(browser, world, cast.staff_here, problems)
    await expect(kim.locator("#queue-status")).to_have_text("Nothing waiting. The queue is clear.")

    pat_socket = await world.socket(cast.participant)
    assert (await pat_socket.say(cast.cohort_room, CRISIS))["type"] == "ack"
    await pat_socket.close()

    item = kim.locator("#queue-list .queue-item").first
    await expect(item.locator(".queue-heading")).to_have_text("Crisis alert · Spring")
    await expect(item.locator(".queue-subject")).to_have_text("About Pat (@pat)")
    await expect(item.locator(".queue-excerpt")).to_have_text(CRISIS)
    await expect(kim.locator("#alert-announcer")).to_contain_text("Crisis alert in Spring about Pat.")
    await expect(kim.locator("#alert-strip-text")).to_have_text("1 alert is waiting for a moderator.")
    await expect(kim.locator("#queue-count")).to_have_text("(1)")
    await expect(kim).to_have_title("(1 alert) Alongside · Moderator console")
    found = await no_serious_violations(kim, source, "console queue with an alert")
    await kim.screenshot(path=str(artifacts / "console-queue-alert-1280.png"))

    await kim.get_by_role("button", name="Open the queue").click()
    await expect(kim.locator("#queue-title")).to_be_focused()
    await kim.keyboard.press("Tab")  # the first thing after the heading: the alert's first action
    await expect(item.get_by_role("button", name="Acknowledge")).to_be_focused()
    await kim.keyboard.press("Enter")
    await expect(item.locator(".queue-meta")).to_contain_text("Acknowledged by Kim")
    await expect(item.get_by_role("button", name="Acknowledge")).to_have_count(0)
    await expect(kim.locator("#alert-strip")).to_be_hidden()
    await expect(kim).to_have_title("Alongside · Moderator console")

    await item.get_by_role("button", name="Person").click()
    await expect(kim.locator("#person-title")).to_have_text("Pat (@pat)")
    await expect(kim.locator("#person-queue")).to_contain_text("Crisis alert in Spring")
    await kim.get_by_label("Add a note for the program's moderators").fill("Called her counsellor at 9pm.")
    await kim.get_by_role("button", name="Save note").click()
    await expect(kim.locator("#person-notes .history-text")).to_have_text(["Called her counsellor at 9pm."])
    found += await no_serious_violations(kim, source, "console person")
    await kim.screenshot(path=str(artifacts / "console-person-1280.png"))
    assert found == []
    assert problems == []


async def test_hold_for_review_and_lock_set_in_the_console_on_a_phone_take_effect_live(
    browser: Browser, world: World, artifacts: Path
) -> None:
    source = axe_source()
    problems = Problems()
    cast = world.cast
    pat = await new_page(browser, problems)
    await sign_in(pat, world.live.url, cast.participant)
    await open_room(pat, "Spring")
    kim = await open_console(browser, world, cast.staff_here, problems, PHONE)
    await kim.get_by_role("button", name=re.compile("^Rooms")).click()
    await kim.locator("#watch-list").get_by_role("button", name=re.compile("^Spring")).click()

    await kim.get_by_role("button", name="Hold for review…").click()
    dialog = kim.get_by_role("dialog", name="Hold for review in Spring")
    await expect(dialog.get_by_label("Hold new messages")).to_be_focused()
    await dialog.get_by_label("Hold new messages").select_option("always")
    await dialog.get_by_role("button", name="Save").click()
    await expect(kim.locator("#watch-room-state")).to_contain_text("Holding messages for review")

    await pat.locator("#composer-input").fill("Can I share something hard?")
    await pat.locator("#composer-input").press("Enter")
    await expect(pat.locator("#pending-list .msg-held")).to_have_count(1)

    await kim.get_by_role("button", name=re.compile("^Queue")).click()
    item = kim.locator("#queue-list .queue-item", has_text="Held message · Spring")
    await expect(item.locator(".queue-excerpt")).to_have_text("Can I share something hard?")
    found = await no_serious_violations(kim, source, "console queue on a phone")
    found += await layout_problems(kim)
    await kim.screenshot(path=str(artifacts / f"console-queue-held-{PHONE}.png"))
    await item.get_by_role("button", name="Approve").click()
    await expect(item).to_have_count(0)
    await expect(pat.locator("#message-list .msg-body")).to_have_text(["Can I share something hard?"])

    await kim.get_by_role("button", name=re.compile("^Rooms")).click()
    await kim.get_by_role("button", name="Lock room").click()
    dialog = kim.get_by_role("dialog", name="Lock Spring")
    await dialog.get_by_label(re.compile("^Reason")).fill("Cooling off for ten minutes")
    await dialog.get_by_role("button", name="Lock room").click()
    await expect(kim.locator("#watch-room-state")).to_contain_text("Locked")
    await expect(kim.get_by_role("button", name="Unlock room")).to_be_visible()
    found += await layout_problems(kim)
    await kim.screenshot(path=str(artifacts / f"console-rooms-{PHONE}.png"))
    assert found == []
    assert problems == []


async def test_mute_warn_and_lift_the_mute_from_the_console_reach_the_person_at_once(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    pat_socket = await world.socket(cast.participant)
    assert (await pat_socket.say(cast.cohort_room, "Whatever, this group is pointless"))["type"] == "ack"
    kim = await open_console(browser, world, cast.staff_here, problems)
    message = await watched_message(kim, "Whatever, this group is pointless")

    await message.get_by_role("button", name=re.compile("^Mute")).click()
    dialog = kim.get_by_role("dialog", name="Mute Pat (@pat)")
    await dialog.get_by_label("For how long").select_option(label="1 day")
    await dialog.get_by_label(re.compile("^Reason")).fill("Take a breather")
    await dialog.get_by_role("button", name="Mute").click()
    await expect(dialog).to_be_hidden()
    muted = (await pat_socket.until(lambda f: f.get("type") == "muted"))[-1]
    assert muted["room"] == cast.cohort_room and muted["reason"] == "Take a breather"

    await message.get_by_role("button", name=re.compile("^Person")).click()
    await expect(kim.locator("#person-title")).to_have_text("Pat (@pat)")
    await expect(kim.locator("#person-title")).to_be_focused()
    await kim.get_by_role("button", name="Warn…").click()
    dialog = kim.get_by_role("dialog", name="Warn Pat (@pat)")
    await dialog.get_by_role("button", name="Send warning").click()
    await expect(dialog.locator("#action-error")).to_have_text("Please give a reason: it goes on the record.")
    await dialog.get_by_label(re.compile("^Reason")).fill("Please keep it kind")
    await dialog.get_by_role("button", name="Send warning").click()
    await expect(dialog).to_be_hidden()
    warning = (await pat_socket.until(lambda f: f.get("type") == "warning"))[-1]
    assert warning["reason"] == "Please keep it kind"
    warnings = kim.locator("#person-warnings")
    await expect(warnings).to_contain_text("Muted in Spring until")
    await expect(warnings).to_contain_text("Warning: Please keep it kind")

    await warnings.get_by_role("button", name="Lift mute in Spring…").click()
    await kim.get_by_role("dialog").get_by_role("button", name="Lift mute").click()
    await pat_socket.until(lambda f: f.get("type") == "unmuted")
    await expect(warnings).not_to_contain_text("Muted in Spring")

    # The server drops the console's socket (a restart): it reconnects, joins its rooms again
    # from where it was, and what is said next shows in the room.
    for conn in list(world.live.app.state.services.hub.connections):
        if conn.person.id == cast.staff_here.person.id:
            conn.kill(CloseCode.RESTART, "restarting")
    await expect(kim.locator("#conn-banner")).to_have_text("Connected again.")
    assert (await pat_socket.say(cast.cohort_room, "Sorry. I am calmer now."))["type"] == "ack"
    await pat_socket.close()
    await kim.get_by_role("button", name=re.compile("^Rooms")).click()
    await expect(kim.locator("#watch-messages .watch-msg-body").last).to_have_text("Sorry. I am calmer now.")
    assert problems == []


async def test_a_ban_from_the_console_says_the_invite_link_they_joined_with_was_withdrawn(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    link = await world.invite(max_uses=20)  # the cohort's link
    joined = await world.register(link["token"], "sam")
    assert joined.status_code == 201, joined.text
    sam_socket = await world.socket(joined.json()["token"])
    assert (await sam_socket.say(cast.cohort_room, "Nobody here is worth talking to"))["type"] == "ack"
    kim = await open_console(browser, world, cast.staff_here, problems)
    message = await watched_message(kim, "Nobody here is worth talking to")
    await message.get_by_role("button", name=re.compile("^Person")).click()
    await expect(kim.locator("#person-title")).to_have_text("Sam (@sam)")

    await kim.get_by_role("button", name="Ban from program…").click()
    dialog = kim.get_by_role("dialog", name="Ban Sam (@sam) from the program")
    await expect(dialog).to_contain_text("If the invite link they joined with still works, it is withdrawn.")
    await dialog.get_by_label(re.compile("^Reason")).fill("Repeated abuse of peers")
    await dialog.get_by_role("button", name="Ban from program").click()
    await expect(dialog).to_be_hidden()
    await expect(kim.locator("#person-standing")).to_contain_text("banned")
    await expect(kim.locator("#person-status")).to_have_text(
        "The invite link they joined with was withdrawn; give the rest of the group a new one."
    )
    again = await world.register(link["token"], "sam2")
    assert (again.status_code, again.json()["code"]) == (410, "invite_revoked")
    await sam_socket.close()
    assert problems == []


async def test_reports_arrive_live_once_per_message_and_are_dismissed_and_a_participant_is_shown_the_way_out(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    cy = await enroll(world.db, "cy", cast.program, cast.cohort)
    pat_socket = await world.socket(cast.participant)
    said = await pat_socket.say(cast.cohort_room, "Buy cheap pills at my site")
    await pat_socket.close()
    kim = await open_console(browser, world, cast.staff_here, problems)

    path = f"/api/rooms/{cast.cohort_room}/messages/{said['seq']}/report"
    assert (await world.call(ria, "POST", path, {"reason": "spam"})).status_code == 201
    item = kim.locator("#queue-list .queue-item", has_text="Report · Spring")
    await expect(item.locator(".queue-excerpt")).to_have_text("Buy cheap pills at my site")
    await expect(item.locator(".queue-raised")).to_have_text("Raised by Ria: spam")
    assert (await world.call(cy, "POST", path, {"reason": "selling"})).status_code == 200
    await expect(item.locator(".queue-raised")).to_have_text("Raised by Ria: spam; Cy: selling (2 times)")
    await expect(kim.locator("#queue-list .queue-item")).to_have_count(1)  # one item per message

    await item.get_by_role("button", name="Dismiss…").click()
    dialog = kim.get_by_role("dialog", name="Dismiss this item")
    await dialog.get_by_label(re.compile("^Reason")).fill("Pat's friend's shop, asked them to stop")
    await dialog.get_by_role("button", name="Dismiss").click()
    await expect(kim.locator("#queue-list .queue-item")).to_have_count(0)
    await expect(kim.locator("#queue-status")).to_have_text("Nothing waiting. The queue is clear.")

    pat = await new_page(browser, problems)
    await sign_in(pat, world.live.url, cast.participant)
    await pat.goto(world.live.url + "/console")  # the chat's cookie: no second sign-in, and nothing to moderate
    await expect(pat.locator("#denied-title")).to_have_text("Nothing to moderate")
    await expect(pat.get_by_role("link", name="Go to the chat")).to_have_attribute("href", "/")
    assert problems == []
