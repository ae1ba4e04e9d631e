"""The server stops while a page is open and a message is being typed and sent, then comes back.

The message waits in the page (shown as sending) and goes out once the page reconnects; what
someone else said while the page was away shows up; the queued message is stored and shown
exactly once, for its author and for the other person in the room.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from server.store.database import Database
from tests.browser.pages import DESKTOP, PHONE, Problems, new_page, open_room, sign_in
from tests.support.client import WsClient, login
from tests.support.live import ServerProcess, free_port
from tests.support.seed import Cast, create_cast
from tests.support.timing import units

pytestmark = pytest.mark.browser

ROOM = "Tuesday evening group"
# The page's attempts to reach a stopped server (or to go out while its context is offline) are
# logged by Chromium as console errors.
SERVER_DOWN = ("ERR_CONNECTION_REFUSED", "ERR_INTERNET_DISCONNECTED", "WebSocket connection to")
RECONNECTED_MS = units(40) * 1000  # the backoff between attempts grows while the server is down


@pytest.fixture
async def served(sqlite_url: str) -> AsyncIterator[tuple[ServerProcess, Cast]]:
    db = Database(sqlite_url)
    cast = await create_cast(db, room_name=ROOM)
    await db.dispose()
    port = free_port()
    server = ServerProcess(sqlite_url, None, port=port, ALLOWED_ORIGINS=f"http://127.0.0.1:{port}")
    await server.start()
    try:
        yield server, cast
    finally:
        server.close()


async def _bodies(page: Page) -> list[str]:
    texts: list[str] = await page.locator("#message-list .msg-body").evaluate_all("els => els.map(e => e.textContent)")
    return texts


async def test_a_message_sent_while_the_server_is_down_arrives_once_and_the_page_catches_up(
    browser: Browser, served: tuple[ServerProcess, Cast]
) -> None:
    server, cast = served
    problems = Problems()
    ann = await new_page(browser, problems, DESKTOP, expected_texts=SERVER_DOWN)
    ben = await new_page(browser, problems, PHONE, expected_texts=SERVER_DOWN)
    for page, who in ((ann, cast.ann), (ben, cast.ben)):
        await sign_in(page, server.url, who)
        await open_room(page, ROOM)
    await expect(ann.locator("#presence")).to_contain_text("Ben")
    await ben.locator("#composer-input").fill("Evening, everyone")
    await ben.locator("#composer-input").press("Enter")
    await expect(ann.locator("#message-list .msg-body")).to_have_text(["Evening, everyone"])

    composer = ann.locator("#composer-input")
    await composer.press_sequentially("Still here, ")
    server.stop()
    for page in (ann, ben):
        await expect(page.locator("#conn-banner")).to_have_text("Connection lost — reconnecting…")
    await composer.press_sequentially("thank you all")
    await composer.press("Enter")
    queued = ann.locator("#pending-list .msg-pending")
    await expect(queued.locator(".msg-body")).to_have_text(["Still here, thank you all"])
    await expect(queued.locator(".msg-status")).to_have_text(["Sending…"])
    # Ann's page stays away until Kim has spoken, so what she said can only come back as catch-up.
    await ann.context.set_offline(True)

    await server.start()
    kim_token = await login(server.url, cast.staff.username, cast.staff.password)
    kim = await WsClient.open(server.ws_url, kim_token)
    said = [f"Kim, while you were away ({n})" for n in range(1, 5)]
    try:
        assert (await kim.next())["type"] == "hello"
        await kim.join(cast.room)
        for body in said:
            assert (await kim.say(cast.room, body))["type"] == "ack"
    finally:
        await kim.close()
    await expect(ann.locator("#conn-banner")).to_have_text("Connection lost — reconnecting…")
    await ann.context.set_offline(False)

    for page in (ann, ben):
        await expect(page.locator("#conn-banner")).not_to_contain_text("reconnecting", timeout=RECONNECTED_MS)
        await expect(page.locator("#message-list .msg-body")).to_have_count(6, timeout=RECONNECTED_MS)
    await expect(ann.locator("#pending-list .msg-pending")).to_have_count(0)

    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {kim_token}"}) as http:
        history = (await http.get(f"/api/rooms/{cast.room}/messages")).json()["messages"]
    stored = [event["body"] for event in history if event["type"] == "message"]
    assert sorted(stored) == sorted(["Evening, everyone", "Still here, thank you all", *said])
    assert await _bodies(ann) == stored
    assert await _bodies(ben) == stored
    assert problems == []
