"""A room's watch and my standing in it, seen in Chromium without reloads: the unmonitored notice
with its crisis resources and a moderator checking in; a held message seen only by its author;
listen-only mode started, lifted and refused; a cohort room read-only after graduation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from server.protocol import CloseCode
from server.store.events import held_messages
from tests.browser.pages import DESKTOP, PHONE, Problems, losing, new_page, open_room, sign_in
from tests.support.lifecycle_cast import enroll
from tests.support.seed import Account
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _ok(world: World, who: Account, method: str, path: str, body: dict[str, Any] | None = None) -> None:
    answer = await world.call(who, method, path, body)
    assert answer.status_code == 200, answer.text


async def _in_spring(browser: Browser, world: World, who: Account, problems: Problems, width: int = DESKTOP) -> Page:
    page = await new_page(browser, problems, width)
    await sign_in(page, world.live.url, who)
    await open_room(page, "Spring")
    return page


async def test_an_unmonitored_room_shows_help_and_changes_live_when_a_moderator_checks_in(
    browser: Browser, world: World, artifacts: Path
) -> None:
    problems = Problems()
    cast = world.cast
    page = await _in_spring(browser, world, cast.participant, problems)
    phone = await _in_spring(browser, world, cast.participant, problems, PHONE)
    for shown in (page, phone):
        await expect(shown.locator("#room-watch")).to_have_text("Not monitored")
        notice = shown.locator("#unwatched")
        await expect(notice.locator("summary")).to_have_text("No moderator is watching this room")
        await expect(notice.locator(".resource-name").first).to_have_text("988 Suicide & Crisis Lifeline")
        await expect(notice.get_by_role("link", name="Call or text 988")).to_have_attribute("href", "tel:988")
        await expect(shown.get_by_role("button", name="Get help now")).to_be_visible()
    await page.screenshot(path=str(artifacts / "room-unmonitored-1280.png"))
    await phone.screenshot(path=str(artifacts / "room-unmonitored-360.png"))

    # Folding the notice away is remembered while the room stays open.
    await page.locator("#unwatched summary").click()
    await expect(page.locator("#unwatched-resources")).to_be_hidden()

    await _ok(world, cast.staff_here, "POST", f"/api/rooms/{cast.cohort_room}/duty")
    for shown in (page, phone):
        await expect(shown.locator("#room-watch")).to_have_text("Monitored now · Kim is on duty")
        await expect(shown.locator("#unwatched")).to_be_hidden()
    await expect(page.locator("#announcer")).to_contain_text("A moderator is watching Spring now.")

    await _ok(world, cast.staff_here, "DELETE", f"/api/rooms/{cast.cohort_room}/duty")
    await expect(phone.locator("#room-watch")).to_have_text("Not monitored")
    await expect(phone.locator("#unwatched-resources")).to_be_visible()
    await expect(page.locator("#unwatched summary")).to_be_visible()
    await expect(page.locator("#unwatched-resources")).to_be_hidden()  # still folded, as its reader left it
    assert problems == []


async def test_a_held_message_is_shown_to_its_author_only_and_survives_a_reconnect(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    peer = await enroll(world.db, "ria", cast.program, cast.cohort)
    await _ok(world, cast.staff_here, "PATCH", f"/api/rooms/{cast.cohort_room}", {"hold_mode": "always"})
    pat = await _in_spring(browser, world, cast.participant, problems)
    ria = await _in_spring(browser, world, peer, problems, PHONE)
    await expect(pat.locator("#room-hold")).to_have_text(
        "Messages here are held for a moderator’s review right now. Yours will show as waiting until then."
    )

    await pat.locator("#composer-input").fill("Is anyone around tonight?")
    await pat.locator("#composer-input").press("Enter")
    held = pat.locator("#pending-list .msg-held")
    await expect(held.locator(".msg-status")).to_have_text("Waiting for a moderator’s review")
    await expect(held.locator(".msg-body")).to_have_text("Is anyone around tonight?")
    await expect(held.locator(".msg-note")).to_contain_text("Only you can see this for now.")
    await expect(held.get_by_role("button")).to_have_count(0)  # nothing to retry: it is not a failure

    kim = await world.socket(cast.staff_here)
    assert (await kim.say(cast.cohort_room, "Good evening, everyone"))["type"] == "ack"  # a moderator's is not held
    for shown in (pat, ria):
        await expect(shown.locator("#message-list .msg-body")).to_have_text(["Good evening, everyone"])
    await expect(ria.get_by_text("Is anyone around tonight?")).to_have_count(0)

    # The server drops pat's socket (a restart): the page reconnects, the held message stays, unsent again.
    for conn in list(world.live.app.state.services.hub.connections):
        if conn.person.id == cast.participant.person.id:
            conn.kill(CloseCode.RESTART, "restarting")
    await expect(pat.locator("#conn-banner")).to_have_text("Connected again.")
    await expect(held.locator(".msg-status")).to_have_text("Waiting for a moderator’s review")
    async with world.db.read() as conn:
        rows = list(await conn.execute(select(held_messages).where(held_messages.c.room_id == cast.cohort_room)))
    assert [row.body for row in rows] == ["Is anyone around tonight?"]
    await kim.close()
    assert problems == []


async def test_listening_only_is_started_and_lifted_on_any_device_and_explains_a_refused_send(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    laptop = await _in_spring(browser, world, cast.participant, problems)
    phone = await _in_spring(browser, world, cast.participant, problems, PHONE)

    await laptop.get_by_role("button", name="Options").click()
    await expect(laptop.locator("#observe-title")).to_be_focused()
    await laptop.get_by_role("button", name="Listen only for 1 day").click()
    await expect(laptop.locator("#room-options")).to_be_hidden()
    await expect(laptop.get_by_role("button", name="Options")).to_be_focused()
    for device in (laptop, phone):  # the phone hears it from the `observing` frame
        await expect(device.locator("#composer")).to_be_hidden()
        await expect(device.locator("#composer-closed-text")).to_contain_text(
            "You are listening only here until tomorrow at"
        )
    await laptop.get_by_role("button", name="Options").click()
    await expect(laptop.locator("#observe-current")).to_contain_text("You are listening only here until tomorrow")
    await laptop.keyboard.press("Escape")
    await expect(laptop.locator("#room-options")).to_be_hidden()

    await phone.get_by_role("button", name="Post again now").click()
    for device in (laptop, phone):
        await expect(device.locator("#composer")).to_be_visible()
    await expect(phone.locator("#composer-input")).to_be_focused()

    # A device that missed the frame tries to post: the refusal says why and the page catches up.
    stale = await new_page(browser, problems)
    await stale.route_web_socket("**/ws", losing("observing"))
    await sign_in(stale, world.live.url, cast.participant)
    await open_room(stale, "Spring")
    await expect(stale.locator("#room-watch")).to_have_text("Not monitored")  # joined
    answer = await world.call(cast.participant, "POST", f"/api/rooms/{cast.cohort_room}/observe", {"minutes": 60})
    assert answer.status_code == 200, answer.text
    await expect(laptop.locator("#composer")).to_be_hidden()
    await stale.locator("#composer-input").fill("Checking in")
    await stale.locator("#composer-input").press("Enter")
    failed = stale.locator("#pending-list .msg-failed")
    await expect(failed.locator(".msg-error")).to_contain_text("You chose to listen only in this room until")
    await expect(stale.locator("#composer-closed-text")).to_contain_text("You are listening only here until")

    await stale.get_by_role("button", name="Post again now").click()
    await expect(stale.locator("#composer")).to_be_visible()
    await failed.get_by_role("button", name="Retry").click()
    await expect(stale.locator("#message-list .msg-body")).to_have_text(["Checking in"])
    assert problems == []


async def test_after_graduation_the_cohort_room_is_read_only_without_a_composer(browser: Browser, world: World) -> None:
    problems = Problems()
    cast = world.cast
    page = await _in_spring(browser, world, cast.participant, problems, PHONE)
    await expect(page.locator("#composer")).to_be_visible()
    stale = await new_page(browser, problems)  # a device that hears nothing of the graduation
    await stale.route_web_socket("**/ws", losing("rooms_changed", "member_changed", "enrollment", "sync"))
    await sign_in(stale, world.live.url, cast.participant)
    await open_room(stale, "Spring")
    await expect(stale.locator("#room-watch")).to_have_text("Not monitored")  # joined

    path = f"/api/programs/{cast.program}/people/{cast.participant.person.id}/graduate"
    await _ok(world, cast.staff_here, "POST", path, {})
    await stale.locator("#composer-input").fill("See you all next week")
    await stale.locator("#composer-input").press("Enter")
    failed = stale.locator("#pending-list .msg-failed")
    await expect(failed.locator(".msg-error")).to_have_text(
        "This room is read-only for you now, so the message was not sent."
    )
    await expect(failed.get_by_role("button")).to_have_text(["Discard"])  # retrying cannot help
    await expect(stale.locator("#composer")).to_be_hidden()
    await expect(stale.locator("#room-list button", has_text="Spring").locator(".room-note")).to_have_text("Read only")

    await expect(page.locator("#composer")).to_be_hidden()
    await expect(page.locator("#composer-closed-text")).to_have_text(
        "Your group’s conversation stays here for you to read back. Posting here is closed for you now."
    )
    await expect(page.get_by_role("button", name="Options")).to_be_hidden()  # nothing to pause in a read-only room
    await page.locator("#back-to-rooms").click()
    spring = page.locator("#room-list button", has_text="Spring")
    await expect(spring.locator(".room-note")).to_have_text("Read only")
    await expect(page.locator("#room-list .room-group-title")).to_have_text(["My group", "Topics", "Alumni"])
    await open_room(page, "Alumni")
    await expect(page.locator("#composer")).to_be_visible()
    assert problems == []
