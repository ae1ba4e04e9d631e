"""The page at `/` in real Chromium: two people log in and chat live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from server.store.database import Database
from tests.browser.pages import PHONE, Scene, open_room
from tests.support.live import live_server, settings_for
from tests.support.seed import create_cast

ROOM = "Tuesday evening group"

pytestmark = pytest.mark.browser


@pytest.fixture
async def scene(sqlite_url: str) -> AsyncIterator[Scene]:
    db = Database(sqlite_url)
    cast = await create_cast(db, ben_name="Ben <img src=x onerror=alert(1)>", room_name=ROOM)
    await db.dispose()
    async with live_server(settings_for(sqlite_url)) as live:
        yield Scene(live, cast.ann, cast.ben, cast.room)


async def test_two_people_chat_live_with_typing_and_presence(browser: Browser, scene: Scene, artifacts: Path) -> None:
    ann = await scene.open(browser, scene.ann)
    ben = await scene.open(browser, scene.ben, width=PHONE)
    await open_room(ann, ROOM)
    await open_room(ben, ROOM)
    await expect(ann.locator("#presence")).to_contain_text("Ben")
    await expect(ben.locator("#presence")).to_contain_text("Ann")

    await ben.locator("#composer-input").press_sequentially("hi")
    await expect(ann.locator("#typing")).to_contain_text("typing")
    await ben.locator("#composer-input").fill("Hello from Ben <b>bold?</b>")
    await ben.locator("#composer-input").press("Enter")
    line = ann.locator("#message-list .msg-body").filter(has_text="Hello from Ben")
    await expect(line).to_have_text("Hello from Ben <b>bold?</b>")  # as text, not markup
    await expect(ann.locator("#typing")).to_be_empty()  # the message ends its "is typing"
    assert await ann.locator("#message-list b").count() == 0
    assert await ann.locator("#message-list img").count() == 0

    await ann.locator("#composer-input").fill("Welcome, Ben")
    await ann.get_by_role("button", name="Send").click()
    await expect(ben.locator("#message-list .msg-body").filter(has_text="Welcome, Ben")).to_have_count(1)
    await expect(ann.locator("#message-list .msg-body").filter(has_text="Welcome, Ben")).to_have_count(1)

    await ann.screenshot(path=str(artifacts / "core-conversation-1280.png"))
    await ben.screenshot(path=str(artifacts / "core-conversation-360.png"))

    await ben.context.close()  # Ben leaves: Ann sees him go
    await expect(ann.locator("#presence")).not_to_contain_text("Ben")
    assert scene.problems == []


async def test_history_is_there_after_a_reload(browser: Browser, scene: Scene) -> None:
    ann = await scene.open(browser, scene.ann)
    await open_room(ann, ROOM)
    for n in range(3):
        await ann.locator("#composer-input").fill(f"note {n}")
        await ann.locator("#composer-input").press("Enter")
    await expect(ann.locator("#message-list .msg-body").filter(has_text="note 2")).to_have_count(1)
    await ann.reload()
    await expect(ann.locator("#app-view")).to_be_visible()  # still signed in
    await open_room(ann, ROOM)
    bodies = ann.locator("#message-list .msg-body")
    await expect(bodies).to_have_text(["note 0", "note 1", "note 2"])
    assert scene.problems == []
