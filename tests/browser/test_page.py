"""The page at `/` in real Chromium: two people log in and chat live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from server.store.database import Database
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import PASSWORD, Account, create_cast

pytestmark = pytest.mark.browser


@dataclass
class Scene:
    live: Live
    ann: Account
    ben: Account
    room: int
    problems: list[str] = field(default_factory=list)

    def _console(self, kind: str, text: str) -> None:
        """Script errors and CSP violations are problems; the 401 of a signed-out start is not."""
        if kind == "error" and "status of 401" not in text:
            self.problems.append(f"console: {text}")

    async def open(self, browser: Browser, who: Account, width: int = 1280) -> Page:
        context = await browser.new_context(viewport={"width": width, "height": 800})
        page = await context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        page.on("console", lambda message: self._console(message.type, message.text))
        await page.goto(self.live.url + "/")
        await page.get_by_label("Username").fill(who.username)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#app-view")).to_be_visible()
        return page


@pytest.fixture
async def scene(sqlite_url: str) -> AsyncIterator[Scene]:
    db = Database(sqlite_url)
    cast = await create_cast(db, ben_name="Ben <img src=x onerror=alert(1)>", room_name="Tuesday evening group")
    await db.dispose()
    async with live_server(settings_for(sqlite_url)) as live:
        yield Scene(live, cast.ann, cast.ben, cast.room)


async def _open_room(page: Page, name: str = "Tuesday evening group") -> None:
    """Open the room from the list (on a phone the list and the room take turns)."""
    entry = page.locator("#room-list").get_by_text(name)
    await expect(entry).to_have_count(1)
    if not await entry.is_visible():
        await page.locator("#back-to-rooms").click()
    await entry.click()
    await expect(page.locator("#room-title")).to_have_text(name)
    await expect(page.locator("#room-content")).to_be_visible()


async def test_two_people_chat_live_with_typing_and_presence(browser: Browser, scene: Scene, artifacts: Path) -> None:
    ann = await scene.open(browser, scene.ann)
    ben = await scene.open(browser, scene.ben, width=360)
    await _open_room(ann)
    await _open_room(ben)
    await expect(ann.locator("#presence")).to_contain_text("Ben")
    await expect(ben.locator("#presence")).to_contain_text("Ann")

    await ben.locator("#composer-input").press_sequentially("hi")
    await expect(ann.locator("#typing")).to_contain_text("typing")
    await ben.locator("#composer-input").fill("Hello from Ben <b>bold?</b>")
    await ben.locator("#composer-input").press("Enter")
    line = ann.locator("#message-list .msg-body").filter(has_text="Hello from Ben")
    await expect(line).to_have_text("Hello from Ben <b>bold?</b>")  # as text, not markup
    assert await ann.locator("#message-list b").count() == 0
    assert await ann.locator("#message-list img").count() == 0

    await ann.locator("#composer-input").fill("Welcome, Ben")
    await ann.get_by_role("button", name="Send").click()
    await expect(ben.locator("#message-list .msg-body").filter(has_text="Welcome, Ben")).to_have_count(1)
    await expect(ann.locator("#message-list .msg-body").filter(has_text="Welcome, Ben")).to_have_count(1)

    await ann.screenshot(path=str(artifacts / "core-conversation-1280.png"))
    await ben.screenshot(path=str(artifacts / "core-conversation-360.png"))
    assert scene.problems == []


async def test_history_is_there_after_a_reload(browser: Browser, scene: Scene) -> None:
    ann = await scene.open(browser, scene.ann)
    await _open_room(ann)
    for n in range(3):
        await ann.locator("#composer-input").fill(f"note {n}")
        await ann.locator("#composer-input").press("Enter")
    await expect(ann.locator("#message-list .msg-body").filter(has_text="note 2")).to_have_count(1)
    await ann.reload()
    await expect(ann.locator("#app-view")).to_be_visible()  # still signed in
    await _open_room(ann)
    bodies = ann.locator("#message-list .msg-body")
    await expect(bodies).to_have_text(["note 0", "note 1", "note 2"])
    assert scene.problems == []
