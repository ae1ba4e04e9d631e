"""Graduation seen in the page without a reload: the alumni room appears, the cohort room says why."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.support.seed import PASSWORD
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def test_a_graduate_sees_the_alumni_room_appear_live(browser: Browser, world: World) -> None:
    cast = world.cast
    problems: list[str] = []
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    await page.goto(world.live.url + "/")
    await page.get_by_label("Username").fill(cast.participant.username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    rooms = page.locator("#room-list .room-name")
    await expect(rooms.get_by_text("Mindfulness")).to_have_count(1)
    await expect(rooms.get_by_text("Alumni", exact=True)).to_have_count(0)
    await rooms.get_by_text("Spring").click()
    await expect(page.locator("#room-title")).to_have_text("Spring")

    person = f"/api/programs/{cast.program}/people/{cast.participant.person.id}/graduate"
    assert (await world.call(cast.staff_here, "POST", person, {})).status_code == 200

    await expect(rooms.get_by_text("Alumni", exact=True)).to_have_count(1)  # rooms_changed: listed again, no reload
    await expect(page.locator("#message-list .msg-system").filter(has_text="Pat can now read here")).to_have_count(1)
    assert problems == []
