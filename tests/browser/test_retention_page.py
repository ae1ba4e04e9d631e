"""Retention and erased messages in Chromium: a program's staff set its retention period in the
console's "Program settings" (asked once more before a period that erases text; empty keeps
messages) and only for the programs they manage; a participant's open page shows retention's
tombstone live, without a reload, and the room list reads each erased message as its timeline
tombstone does ("deleted user" and the deletion's words, the retention period's words).
axe-core finds no serious or critical violation on the settings screen (light and dark)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import update

from server.store import programs
from server.store.database import utcnow
from server.store.events import events
from server.store.retention import run_once
from tests.browser.axe import axe_source
from tests.browser.pages import PHONE, Problems, new_page, open_room, sign_in
from tests.browser.test_console_page import no_serious_violations, open_console
from tests.support.lifecycle_cast import enroll
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser

OLD = "what I said last spring"
SECRET = "something only this group knows"
EXPIRED = "Message erased after the program’s retention period"
DELETED = "Message erased: its writer deleted their account"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _program(world: World) -> dict[str, Any]:
    answer = await world.call(world.cast.admin, "GET", f"/api/programs/{world.cast.program}")
    assert answer.status_code == 200, answer.text
    program: dict[str, Any] = answer.json()
    return program


async def test_staff_set_a_programs_retention_in_the_console_and_are_asked_before_it_erases(
    browser: Browser, world: World, artifacts: Path
) -> None:
    problems = Problems()
    kim = await open_console(browser, world, world.cast.staff_here, problems)
    tab = kim.get_by_role("button", name="Program settings")
    await tab.click()
    await expect(kim.locator("#programs-title")).to_be_focused()
    block = kim.get_by_role("region", name="Evening IOP")
    await expect(kim.locator("#programs-list h3")).to_have_text(["Evening IOP"])  # not the program she does not run
    retention = block.get_by_label("Erase message text after (days)")
    await expect(retention).to_have_value("")
    await expect(block.locator(".program-retention-now")).to_contain_text("Messages are kept")
    await expect(retention).to_have_accessible_description(
        re.compile("Leave empty to keep messages.*erased for everyone")
    )
    await expect(block.get_by_label("Hold the first posts of each new participant for review")).to_have_value("0")
    await expect(block.get_by_label("Graduates may post in their cohort’s room")).not_to_be_checked()

    await retention.fill("0")
    await block.get_by_role("button", name="Save settings").click()
    await expect(block.locator(".form-error").last).to_contain_text("from 1 to 3650")
    await expect(retention).to_have_attribute("aria-invalid", "true")
    await expect(retention).to_be_focused()

    await retention.fill("30")
    await block.get_by_role("button", name="Save settings").click()
    erase = block.get_by_role("button", name="Save and erase")
    await expect(erase).to_be_focused()
    await expect(erase).to_have_accessible_description(re.compile("older than 30 days.*cannot be brought back"))
    assert (await _program(world))["retention_days"] is None  # asked first: nothing sent yet
    assert await no_serious_violations(kim, axe_source(), "program settings") == []
    await kim.screenshot(path=str(artifacts / "console-program-settings-1280.png"))
    await erase.click()
    await expect(block.get_by_role("status")).to_have_text("Saved.")
    await expect(block.locator(".program-retention-now")).to_contain_text("older than 30 days is erased for everyone")
    assert (await _program(world))["retention_days"] == 30

    # a longer period erases nothing more: no second question; hold and alumni go along
    await retention.fill("90")
    await block.get_by_label("Hold the first posts of each new participant for review").fill("3")
    await block.get_by_label("Graduates may post in their cohort’s room").check()
    await block.get_by_role("button", name="Save settings").click()
    await expect(block.get_by_role("status")).to_have_text("Saved.")
    saved = await _program(world)
    assert (saved["retention_days"], saved["hold_first_posts"], saved["alumni_post_in_cohort"]) == (90, 3, True)
    await retention.fill("")  # empty keeps messages
    await block.get_by_role("button", name="Save settings").click()
    await expect(block.get_by_role("status")).to_have_text("Saved.")
    await expect(block.locator(".program-retention-now")).to_contain_text("Messages are kept")
    assert (await _program(world))["retention_days"] is None

    phone = await open_console(browser, world, world.cast.staff_elsewhere, problems, width=PHONE)
    await phone.get_by_role("button", name="Program settings").click()
    await expect(phone.locator("#programs-list h3")).to_have_text(["Morning IOP"])
    await phone.screenshot(path=str(artifacts / "console-program-settings-360.png"))
    assert problems == []


async def test_an_open_page_shows_retentions_tombstone_live_and_the_room_list_says_why_each_went(
    browser: Browser, world: World, artifacts: Path
) -> None:
    cast = world.cast
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    kim_socket, pat_socket, ria_socket = [await world.socket(who) for who in (cast.staff_here, cast.participant, ria)]
    assert (await kim_socket.say(cast.cohort_room, "Welcome back, everyone"))["type"] == "ack"
    old = await pat_socket.say(cast.cohort_room, OLD)
    assert (await ria_socket.say(world.topic_room, SECRET))["type"] == "ack"
    for client in (kim_socket, pat_socket, ria_socket):
        await client.close()
    async with world.db.write() as conn:
        await conn.execute(
            update(events)
            .where(events.c.room_id == cast.cohort_room, events.c.seq == old["seq"])
            .values(created_at=utcnow() - timedelta(days=40))
        )
        await programs.set_program_options(conn, cast.program, retention_days=30)
    async with world.http() as http:  # ria deletes her account: her message in Mindfulness is erased
        deleted = await http.post(
            "/api/me/delete",
            json={"password": ria.password},
            headers={"Authorization": f"Bearer {await world.token(ria)}"},
        )
    assert deleted.status_code == 204, deleted.text

    problems = Problems()
    page = await new_page(browser, problems)
    await sign_in(page, world.live.url, cast.participant)
    mindfulness = page.locator("#room-list button", has_text="Mindfulness").locator(".room-latest")
    await expect(mindfulness).to_have_text(f". Latest: deleted user: {DELETED}")
    await expect(mindfulness).to_have_class(re.compile("room-latest-removed"))
    await open_room(page, "Spring")
    await expect(page.locator("#message-list .msg-body")).to_have_text(["Welcome back, everyone", OLD])
    spring = page.locator("#room-list button", has_text="Spring").locator(".room-latest")
    await expect(spring).to_contain_text(f"You: {OLD}")

    report = await run_once(world.db, utcnow())  # what the retention process does, beside the server
    assert report.total == 1
    await expect(page.locator("#message-list .msg-tombstone")).to_have_text([EXPIRED])  # live, no reload
    await expect(page.locator("#message-list .msg-body").first).to_have_text("Welcome back, everyone")
    await expect(spring).to_have_text(f". Latest: You: {EXPIRED}")
    await expect(page.get_by_text(OLD)).to_have_count(0)
    await expect(page.get_by_text(SECRET)).to_have_count(0)
    await page.screenshot(path=str(artifacts / "retention-tombstone-live.png"))

    await page.reload()  # the listing and history say the same
    await expect(spring).to_have_text(f". Latest: You: {EXPIRED}")
    await open_room(page, "Spring")
    await expect(page.locator("#message-list .msg-tombstone")).to_have_text([EXPIRED])
    assert problems == []
