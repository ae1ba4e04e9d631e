"""What browser tests do with a page: open it with its problems collected, sign in, open a room, lose frames."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser, Page, WebSocketRoute, expect

from tests.support.client import WsClient, login
from tests.support.live import Live
from tests.support.seed import Account

PHONE = 360
DESKTOP = 1280


class Problems(list[str]):
    """Script errors and CSP violations seen by pages; HTTP refusals a test expects are not problems,
    nor console errors containing one of ``expected_texts`` (e.g. a refused connection while a test
    has stopped the server)."""

    def watch(
        self, page: Page, expected_statuses: tuple[int, ...] = (401,), expected_texts: tuple[str, ...] = ()
    ) -> None:
        expected = (*(f"status of {status}" for status in expected_statuses), *expected_texts)

        def console(kind: str, text: str) -> None:
            if kind == "error" and not any(part in text for part in expected):
                self.append(f"console: {text}")

        page.on("pageerror", lambda error: self.append(f"pageerror: {error}"))
        page.on("console", lambda message: console(message.type, message.text))


async def new_page(browser: Browser, problems: Problems, width: int = DESKTOP, **watch: Any) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    problems.watch(page, **watch)
    return page


async def sign_in(page: Page, base_url: str, who: Account) -> None:
    await sign_in_as(page, base_url, who.username, who.password)


async def sign_in_as(page: Page, base_url: str, username: str, password: str) -> None:
    """Through the login form, for someone who has no Account (e.g. registered over HTTP by the test)."""
    await page.goto(base_url + "/")
    form = page.locator("#login-form")
    await form.get_by_label("Username").fill(username)
    await form.get_by_label("Password").fill(password)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#app-view")).to_be_visible()


async def open_room(page: Page, name: str) -> None:
    """Open the room from the list (on a phone the list and the room take turns)."""
    entry = page.locator("#room-list .room-name").get_by_text(name, exact=True)
    await expect(entry).to_have_count(1)
    if not await entry.is_visible():
        await page.locator("#back-to-rooms").click()
    await entry.click()
    await expect(page.locator("#room-title")).to_have_text(name)
    await expect(page.locator("#room-content")).to_be_visible()


@dataclass
class Scene:
    """Two people (Ann, Ben) in a room of a running server, and pages or sockets for them."""

    live: Live
    ann: Account
    ben: Account
    room: int
    problems: Problems = field(default_factory=Problems)

    async def open(self, browser: Browser, who: Account, width: int = DESKTOP) -> Page:
        page = await new_page(browser, self.problems, width)
        await sign_in(page, self.live.url, who)
        return page

    async def socket(self, who: Account) -> WsClient:
        client = await WsClient.open(self.live.ws_url, await login(self.live.url, who.username, who.password))
        assert (await client.next())["type"] == "hello"
        return client


def losing(*kinds: str) -> Callable[[WebSocketRoute], None]:
    """Relay the page's socket but lose the server's frames of these types, as if this device missed them."""

    def route_socket(route: WebSocketRoute) -> None:
        server = route.connect_to_server()

        def relay(message: str | bytes) -> None:
            if not (isinstance(message, str) and json.loads(message).get("type") in kinds):
                route.send(message)

        server.on_message(relay)

    return route_socket
