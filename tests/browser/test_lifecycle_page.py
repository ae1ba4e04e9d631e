"""Graduation seen in the page without a reload: the alumni room appears, the cohort room says why."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.browser.pages import Problems, new_page, sign_in
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def test_a_graduate_sees_the_alumni_room_appear_live(browser: Browser, world: World) -> None:
    cast = world.cast
    problems = Problems()
    page = await new_page(browser, problems)
    await sign_in(page, world.live.url, cast.participant)
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
