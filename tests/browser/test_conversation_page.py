"""The conversation in real Chromium: reactions and replies between two people live, unread
counts and the "new since you were here" line after time away, read markers across devices,
and links that open safely."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from server.store.database import Database
from tests.browser.axe import axe_source, serious_violations
from tests.browser.pages import PHONE, Scene, open_room
from tests.support.live import live_server, settings_for
from tests.support.seed import create_cast, create_room

ROOM = "Tuesday evening group"
OTHER_ROOM = "Mindful mornings"

pytestmark = pytest.mark.browser


@pytest.fixture
async def scene(sqlite_url: str) -> AsyncIterator[Scene]:
    db = Database(sqlite_url)
    cast = await create_cast(db, room_name=ROOM)
    await create_room(db, cast.staff, [cast.ann, cast.ben], name=OTHER_ROOM)
    await db.dispose()
    async with live_server(settings_for(sqlite_url)) as live:
        yield Scene(live, cast.ann, cast.ben, cast.room)


async def no_serious_violations(page: Page) -> None:
    """axe-core finds nothing serious on the page as it is, in light and in dark."""
    source = axe_source()
    for scheme in ("light", "dark"):
        # Reduced motion: no colour is caught halfway through a transition to the other scheme.
        await page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        assert await serious_violations(page, source) == [], scheme
    await page.emulate_media(color_scheme=None, reduced_motion=None)


def message(page: Page, body: str) -> Locator:
    """The rendered message whose text is `body`."""
    return page.locator("#message-list li.msg").filter(has=page.locator(".msg-body", has_text=body))


async def send(page: Page, text: str) -> None:
    await page.locator("#composer-input").fill(text)
    await page.locator("#composer-input").press("Enter")
    await expect(message(page, text)).to_have_count(1)


async def test_two_people_react_and_reply_live(browser: Browser, scene: Scene, artifacts: Path) -> None:
    ann = await scene.open(browser, scene.ann)
    ben = await scene.open(browser, scene.ben, width=PHONE)
    await open_room(ann, ROOM)
    await open_room(ben, ROOM)
    await send(ben, "Thirty days today")

    # Ann gives a heart with the mouse: React, then Heart in the picker.
    news = message(ann, "Thirty days today")
    await news.hover()
    await news.get_by_role("button", name="React to Ben").click()
    await ann.get_by_role("group", name="Choose a reaction").get_by_role("button", name="Heart").click()
    await expect(news.get_by_role("button", name="Heart, 1 person, you")).to_have_attribute("aria-pressed", "true")
    mine = message(ben, "Thirty days today")
    await expect(mine.get_by_role("button", name="Heart, 1 person")).to_have_attribute("aria-pressed", "false")
    await expect(mine.locator(".reaction")).to_have_text(["❤️1"])
    await expect(ben.locator("#announcer")).to_contain_text("Ann reacted to your message: Heart.")

    # Ben adds his own heart by pressing the one shown; Ann sees the count go up.
    await mine.get_by_role("button", name="Heart, 1 person").click()
    await expect(news.get_by_role("button", name="Heart, 2 people, including you")).to_be_visible()

    # Ann, with the keyboard only: Tab into the message, Enter on React, arrows, Enter.
    await ann.locator("#message-scroller").focus()
    react = news.get_by_role("button", name="React to Ben")
    for _ in range(6):
        await ann.keyboard.press("Tab")
        if await react.evaluate("(button) => button === document.activeElement"):
            break
    await expect(react).to_be_focused()
    await ann.keyboard.press("Enter")
    await expect(react).to_have_attribute("aria-expanded", "true")
    await expect(ann.get_by_role("group", name="Choose a reaction").get_by_role("button", name="Heart")).to_be_focused()
    await ann.keyboard.press("ArrowRight")
    await ann.keyboard.press("Enter")
    await expect(react).to_be_focused()  # the picker folded away and gave focus back
    await expect(mine.get_by_role("button", name="Clap, 1 person")).to_be_visible()
    await ann.keyboard.press("Enter")
    await ann.keyboard.press("Escape")
    await expect(ann.get_by_role("group", name="Choose a reaction")).to_have_count(0)
    await expect(react).to_be_focused()

    # Ann takes her heart back.
    await news.get_by_role("button", name="Heart, 2 people, including you").click()
    await expect(mine.get_by_role("button", name="Heart, 1 person, you")).to_be_visible()

    # Ben replies to a message of Ann's: the quote names her and shows its start.
    await send(ann, "So proud of you, Ben. One day at a time.")
    original = message(ben, "So proud of you")
    await original.hover()
    await original.get_by_role("button", name="Reply to Ann").click()
    await expect(ben.locator("#reply-bar")).to_be_visible()
    await expect(ben.locator("#reply-bar .quote-author")).to_have_text("Ann")
    await expect(ben.locator("#composer-input")).to_be_focused()
    await send(ben, "Thank you, it means a lot")
    await expect(ben.locator("#reply-bar")).to_be_hidden()
    for page in (ann, ben):
        reply = message(page, "Thank you, it means a lot")
        quote = reply.get_by_role(
            "button", name=re.compile(r"^In reply to Ann\s*: So proud of you, Ben\. One day at a time\.$")
        )
        await expect(quote).to_be_visible()

    await ann.screenshot(path=str(artifacts / "conversation-reactions-replies-1280.png"))
    await ben.screenshot(path=str(artifacts / "conversation-reactions-replies-360.png"))
    mine_reply = message(ann, "So proud of you")
    await mine_reply.hover()
    await mine_reply.get_by_role("button", name="React to your message").click()
    await no_serious_violations(ann)  # reactions, a reply, and the picker open
    await ann.keyboard.press("Escape")

    # The quote leads back to the original message.
    await message(ann, "Thank you, it means a lot").locator(".msg-quote").click()
    await expect(message(ann, "So proud of you")).to_be_focused()

    # From the history, after a reload: the same counts and the same quote.
    await ann.reload()
    await open_room(ann, ROOM)
    await expect(message(ann, "Thirty days today").locator(".reaction")).to_have_text(["❤️1", "👏1"])
    await expect(message(ann, "Thank you, it means a lot").locator(".quote-text")).to_have_text(
        "So proud of you, Ben. One day at a time."
    )
    assert scene.problems == []


async def test_unread_count_latest_line_and_new_divider_after_time_away(
    browser: Browser, scene: Scene, artifacts: Path
) -> None:
    ben = await scene.socket(scene.ben)
    first = await ben.say(scene.room, "Morning, all")
    assert first["type"] == "ack"
    ann_elsewhere = await scene.socket(scene.ann)  # another device of Ann's hears her read markers move

    ann = await scene.open(browser, scene.ann, width=PHONE)
    room_button = ann.locator("#room-list button", has_text=ROOM)
    await expect(room_button.locator(".room-latest")).to_contain_text("Ben: Morning, all")
    await expect(room_button.locator(".room-unread")).to_have_text("1")
    await open_room(ann, ROOM)
    await ann_elsewhere.until(lambda f: f["type"] == "read" and f["last_read_seq"] == first["seq"])
    await expect(ann.locator("#message-list .unread-divider")).to_have_count(0)  # first visit: no line
    await ann.context.close()  # Ann is away

    said = ["How is everyone?", "I had a rough night", "Calling my sponsor later"]
    acks = [await ben.say(scene.room, body) for body in said]
    assert [ack["type"] for ack in acks] == ["ack"] * 3

    ann = await scene.open(browser, scene.ann, width=PHONE)
    room_button = ann.locator("#room-list button", has_text=ROOM)
    await expect(room_button.locator(".room-unread")).to_have_text("3")
    await expect(room_button).to_have_accessible_name(
        re.compile(rf"^{ROOM}\s*, 3 unread messages\s*\. Latest: Ben: Calling my sponsor later")
    )
    await expect(ann.locator("#room-list button", has_text=OTHER_ROOM).locator(".room-unread")).to_have_count(0)
    await ann.screenshot(path=str(artifacts / "room-list-unread-360.png"))
    await no_serious_violations(ann)

    await open_room(ann, ROOM)
    divider = ann.locator("#message-list .unread-divider")
    await expect(divider).to_have_text("New since you were here")
    after_divider = await divider.evaluate("(li) => li.nextElementSibling.querySelector('.msg-body').textContent")
    assert after_divider == said[0]
    await expect(ann.locator("#unwatched")).to_be_visible()  # the room's notice takes its room above...
    await expect(divider).to_be_in_viewport()  # ...and the line stays in view
    await ann.screenshot(path=str(artifacts / "conversation-new-since-360.png"))
    await no_serious_violations(ann)
    await ann.get_by_role("button", name="Latest messages").click()  # read on to the latest: now it is read
    await ann_elsewhere.until(lambda f: f["type"] == "read" and f["last_read_seq"] == acks[-1]["seq"])

    await ann.locator("#back-to-rooms").click()
    await expect(room_button.locator(".room-unread")).to_have_count(0)
    await expect(room_button.locator(".room-latest")).to_contain_text("Ben: Calling my sponsor later")

    await ann.reload()
    await open_room(ann, ROOM)
    await expect(message(ann, said[-1])).to_be_visible()
    await expect(ann.locator("#message-list .unread-divider")).to_have_count(0)  # all read now
    await ben.close()
    await ann_elsewhere.close()
    assert scene.problems == []


async def test_reading_on_one_device_clears_the_count_on_another(browser: Browser, scene: Scene) -> None:
    ben = await scene.socket(scene.ben)
    for body in ("Anyone up?", "Couldn't sleep"):
        assert (await ben.say(scene.room, body))["type"] == "ack"
    phone = await scene.open(browser, scene.ann, width=PHONE)
    badge = phone.locator("#room-list button", has_text=ROOM).locator(".room-unread")
    await expect(badge).to_have_text("2")

    desk = await scene.open(browser, scene.ann)
    await open_room(desk, ROOM)
    await expect(message(desk, "Couldn't sleep")).to_be_visible()
    await expect(badge).to_have_count(0)  # the phone heard of it, without a reload

    # A message that arrives while the room is open and on screen is read at once.
    assert (await ben.say(scene.room, "Thanks for being here")).get("type") == "ack"
    await expect(message(desk, "Thanks for being here")).to_be_visible()
    await expect(badge).to_have_count(0)
    await expect(phone.locator("#room-list button", has_text=ROOM).locator(".room-latest")).to_contain_text(
        "Ben: Couldn't sleep"
    )  # the phone has not joined the room: its latest line waits for the next listing
    await ben.close()
    assert scene.problems == []


async def test_only_web_links_are_clickable_and_they_open_safely(browser: Browser, scene: Scene) -> None:
    ann = await scene.open(browser, scene.ann)
    await open_room(ann, ROOM)
    ben = await scene.socket(scene.ben)
    health = f"{scene.live.url}/healthz"
    body = (
        f"Notes (see {health}). Also https://en.wikipedia.org/wiki/Sobriety_(disambiguation)! "
        "Not links: javascript:alert(1) www.example.org data:text/html,hi"
    )
    assert (await ben.say(scene.room, body))["type"] == "ack"
    shown = message(ann, "Notes (see")
    await expect(shown.locator(".msg-body")).to_have_text(body)
    links = shown.locator("a")
    await expect(links).to_have_count(2)
    await expect(links.nth(0)).to_have_attribute("href", health)
    await expect(links.nth(1)).to_have_attribute("href", "https://en.wikipedia.org/wiki/Sobriety_(disambiguation)")
    for n in range(2):
        await expect(links.nth(n)).to_have_attribute("target", "_blank")
        await expect(links.nth(n)).to_have_attribute("rel", "noopener noreferrer")

    async with ann.context.expect_page() as opened:
        await links.nth(0).click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == health
    assert await tab.evaluate("() => window.opener") is None
    await ben.close()
    assert scene.problems == []
