"""Hostile messages and display names, sent through the real server and shown in Chromium: every
one appears as the very text that was sent, nothing in them runs (no dialog, no console error, the
flag the payloads would set stays unset), and none breaks the layout at 360 px or 1280 px."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.browser.layout import layout_problems
from tests.browser.pages import DESKTOP, PHONE, Problems, new_page, open_room, sign_in, sign_in_as
from tests.support.client import WsClient
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser

PASSWORD = "a-hostile-long-password"
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one emoji: four joined by ZWJs

# (what it tries, the message body)
MESSAGES = [
    ("script element", "<script>window.__pwned = 'script'</script>"),
    ("image with onerror", "<img src=x onerror=\"alert(1); window.__pwned = 'img'\">"),
    ("svg onload", "<svg onload=\"window.__pwned = 'svg'\"></svg>"),
    ("attribute breakout into an iframe", '"><iframe srcdoc="<script>parent.__pwned = \'iframe\'</script>">'),
    ("javascript: URL", "javascript:window.__pwned = 'url'"),
    ("javascript: link in markdown", "[tap for help](javascript:window.__pwned = 'markdown')"),
    ("javascript: link in HTML", "<a href=\"javascript:window.__pwned = 'anchor'\">tap for help</a>"),
    ("template syntax", "{{constructor.constructor('window.__pwned = 1')()}} ${window.__pwned = 2}"),
    ("right-to-left overrides", "\u202egnp.exe\u202c is a photo \u202eand this one is never closed"),
    ("4 KB of emoji", "\U0001f600" * 1024),
    ("emoji joined by zero-width joiners", FAMILY * 150),
    ("zero-width characters inside one word", "zero\u200bwidth\u200djoined\u2060word" * 100),
    ("a very long word", "Supercalifragilistic" * 150),
    ("a very long link", "https://example.org/" + "a" * 2000),
]
# Display names the server accepts (registered through an invite); each sends some of the messages.
NAMES = [
    "<script>window.__pwned = 'name'</script>",
    "<img src=x onerror=\"alert('name')\">",
    "javascript:window.__pwned = 'name'",
    "\U0001f600" * 64,
    "W" * 64,
    f"{FAMILY} Family",
]
RTL_OVERRIDE_NAME = "\u202eevil"  # refused by the server: bidi controls would reverse text around the name
FROM_THE_COMPOSER = "<img src=x onerror=\"window.__pwned = 'composer'\"> typed in the page"

# Anything that is not the text people sent: elements or links their text would make if parsed.
INJECTED = """() => {
  const made = document.querySelectorAll('#app-view script, #app-view img, #app-view svg, #app-view iframe');
  const found = [...made].map((el) => el.outerHTML.slice(0, 80));
  for (const a of document.querySelectorAll('a[href]')) {
    const url = new URL(a.href, location.href);
    const web = url.protocol === 'http:' || url.protocol === 'https:';
    const phone = url.protocol === 'tel:' || url.protocol === 'sms:';
    if (!web && !(phone && a.closest('.resource'))) found.push(`link to ${a.getAttribute('href').slice(0, 80)}`);
    const rel = (a.getAttribute('rel') || '').split(/\\s+/);
    const safe = url.origin === location.origin || (rel.includes('noopener') && rel.includes('noreferrer'));
    if (web && !safe) found.push(`link without noopener noreferrer: ${a.href.slice(0, 80)}`);
  }
  return found;
}"""


@dataclass
class Hostile:
    username: str
    name: str
    socket: WsClient


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _register(world: World) -> list[Hostile]:
    """Everyone in NAMES joins the cohort through one invite, over HTTP; the RTL override is refused."""
    cast = world.cast
    body = {"role": "participant", "cohort": cast.cohort, "max_uses": len(NAMES) + 1}
    invite = await world.call(cast.staff_here, "POST", f"/api/programs/{cast.program}/invites", body)
    assert invite.status_code == 201, invite.text
    token = invite.json()["token"]

    async def register(username: str, name: str) -> Any:
        answer = {"username": username, "password": PASSWORD, "display_name": name, "invite": token}
        return await world.call(None, "POST", "/api/auth/register", answer)

    refused = await register("reverser", RTL_OVERRIDE_NAME)
    assert (refused.status_code, refused.json()["field"]) == (400, "display_name")
    people = []
    for n, name in enumerate(NAMES):
        answer = await register(f"hostile{n}", name)
        assert answer.status_code == 201, answer.text
        assert answer.json()["user"]["display_name"] == name
        socket = await world.socket(answer.json()["token"])
        await socket.join(cast.cohort_room)
        people.append(Hostile(f"hostile{n}", name, socket))
    return people


def _watch_dialogs(page: Page, problems: Problems) -> None:
    async def dialog(shown: Dialog) -> None:
        problems.append(f"dialog: {shown.type} {shown.message}")
        await shown.dismiss()

    page.on("dialog", dialog)


async def _shown(page: Page) -> list[tuple[str, str]]:
    shown: list[list[str]] = await page.locator("#message-list .msg").evaluate_all(
        "items => items.map((li) => [li.querySelector('.msg-author'), li.querySelector('.msg-body')]"
        ".map((part) => part.textContent))"
    )
    return [(author, body) for author, body in shown]


async def _nothing_ran(page: Page) -> None:
    assert await page.evaluate("() => '__pwned' in window") is False
    assert await page.evaluate(INJECTED) == []


async def test_hostile_messages_and_names_render_as_text_run_nothing_and_keep_the_layout(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    phone = await new_page(browser, problems, PHONE)
    _watch_dialogs(phone, problems)
    await sign_in(phone, world.live.url, world.cast.participant)
    await open_room(phone, "Spring")  # before anything arrives: these come in live

    people = await _register(world)
    sent: list[tuple[str, str]] = []  # (author's name, body), as each message should show
    for n, (tries, body) in enumerate(MESSAGES):
        author = people[n % len(people)]
        assert (await author.socket.say(world.cast.cohort_room, body))["type"] == "ack", tries
        sent.append((author.name, body))
    tries_of = [tries for tries, _ in MESSAGES] + ["typed in the page's composer"]

    desk = await new_page(browser, problems, DESKTOP)  # after: these come from the history
    _watch_dialogs(desk, problems)
    await sign_in_as(desk, world.live.url, people[0].username, PASSWORD)
    await open_room(desk, "Spring")
    await expect(desk.locator("#whoami")).to_have_text(f"Signed in as {people[0].name}")
    await desk.locator("#composer-input").fill(FROM_THE_COMPOSER)
    await desk.locator("#composer-input").press("Enter")
    sent.append((people[0].name, FROM_THE_COMPOSER))

    pages = ((phone, PHONE), (desk, DESKTOP))
    for page, _ in pages:
        await expect(page.locator("#message-list .msg")).to_have_count(len(sent))
        await expect(page.locator("#presence")).to_contain_text(people[1].name)
        shown = await _shown(page)
        assert shown == sent, [tries for tries, got, want in zip(tries_of, shown, sent, strict=True) if got != want]
        await _nothing_ran(page)

    for typist in (people[3], people[4]):  # the longest names, in the typing line (shown for a few seconds)
        await typist.socket.send({"type": "typing", "room": world.cast.cohort_room})
    for page, width in pages:
        await expect(page.locator("#typing")).to_contain_text("are typing")
        broken = await layout_problems(page)
        assert broken == [], f"at {width} px: " + "; ".join(broken)
        for bubble in await page.locator("#message-list .msg").all():
            box = await bubble.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"at {width} px"

    for person in people:
        await person.socket.close()
    assert problems == []
