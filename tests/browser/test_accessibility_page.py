"""The main screens in Chromium at phone and desktop width: axe-core finds no serious or critical
violation on any of them, in the light and the dark colour scheme, their layout holds (nothing
scrolls sideways), and each is photographed into test-artifacts/screenshots/ (<screen>-<width>.png)
for a reviewer to look at."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.axe import axe_source, serious_violations
from tests.browser.layout import layout_problems
from tests.browser.pages import DESKTOP, PHONE, Problems, new_page, open_room, sign_in
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser

SAID = (
    ("kim", "Welcome back, everyone. How did the weekend go?"),
    ("pat", "Harder than I hoped, but I used the breathing exercise twice and it helped."),
    ("kim", "That is real progress, Pat. Thank you for telling us."),
)

# Colours change with a short transition when the scheme does: judge contrast once they have settled.
SETTLED = "() => Promise.all(document.getAnimations().map((animation) => animation.finished))"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        cast = running.cast
        for who, body in SAID:
            account = cast.staff_here if who == "kim" else cast.participant
            socket = await running.socket(account)
            assert (await socket.say(cast.cohort_room, body))["type"] == "ack"
            await socket.close()
        yield running


class Tour:
    """One page walked through the screens; what axe says about each, by screen and scheme, and
    what breaks its layout."""

    def __init__(self, page: Page, width: int, source: str, artifacts: Path) -> None:
        self.page = page
        self.width = width
        self.source = source
        self.artifacts = artifacts
        self.found: dict[str, list[str]] = {}

    async def check(self, screen: str) -> None:
        for scheme in ("dark", "light"):
            await self.page.emulate_media(color_scheme=scheme)
            await self.page.evaluate(SETTLED)
            self.found[f"{screen} at {self.width}px, {scheme}"] = await serious_violations(self.page, self.source)
        self.found[f"{screen} at {self.width}px, layout"] = await layout_problems(self.page)
        await self.page.screenshot(path=str(self.artifacts / f"{screen}-{self.width}.png"))

    def violations(self) -> dict[str, list[str]]:
        return {where: found for where, found in self.found.items() if found}


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
async def test_login_rooms_conversation_and_crisis_screens_pass_axe_and_are_photographed(
    browser: Browser, world: World, artifacts: Path, width: int
) -> None:
    problems = Problems()
    page = await new_page(browser, problems, width)
    tour = Tour(page, width, axe_source(), artifacts)

    await page.goto(world.live.url + "/")
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    await tour.check("login")

    await sign_in(page, world.live.url, world.cast.participant)
    await expect(page.locator("#room-list .room-name").get_by_text("Mindfulness")).to_be_visible()
    await tour.check("room-list")

    await open_room(page, "Spring")
    await expect(page.locator("#message-list .msg-body")).to_have_text([body for _, body in SAID])
    await expect(page.locator("#unwatched-resources .resource").first).to_be_visible()
    await tour.check("conversation")

    await page.get_by_role("button", name="Get help now").click()
    help_dialog = page.get_by_role("dialog", name="Get help now")
    await expect(help_dialog).to_be_visible()
    await expect(help_dialog.locator("#help-list .resource").first).to_be_visible()
    await tour.check("crisis")

    assert tour.violations() == {}
    assert problems == []
