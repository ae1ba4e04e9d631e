"""A participant deletes their account from the chat client; a peer's page and the console show
the tombstones live ("deleted user", the text erased), and again after a reload."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.axe import axe_source
from tests.browser.pages import Problems, new_page, open_room, sign_in
from tests.browser.test_console_page import no_serious_violations, open_console
from tests.support.lifecycle_cast import enroll
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser
SECRET = "I used again on Saturday"
ERASED = "Message erased: its writer deleted their account"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def test_deleting_my_account_shows_deleted_user_tombstones_to_peers_and_staff(
    browser: Browser, world: World, artifacts: Path
) -> None:
    cast = world.cast
    pat, room = cast.participant, cast.cohort_room
    ria = await enroll(world.db, "ria", cast.program, cast.cohort)
    pat_socket, ria_socket = await world.socket(pat), await world.socket(ria)
    await pat_socket.join(room)
    await ria_socket.join(room)
    said = await pat_socket.say(room, SECRET)
    await ria_socket.send(
        {"type": "send", "room": room, "body": "Thank you for telling us", "client_id": str(uuid.uuid4()),
         "reply_to": said["seq"], "ref": "r"}
    )  # fmt: skip
    await ria_socket.until(lambda f: f.get("ref") == "r")
    for client in (pat_socket, ria_socket):
        await client.close()

    problems = Problems()
    peer = await new_page(browser, problems)
    await sign_in(peer, world.live.url, ria)
    await open_room(peer, "Spring")
    await expect(peer.locator("#message-list .msg-body")).to_have_text([SECRET, "Thank you for telling us"])
    kim = await open_console(browser, world, cast.staff_here, problems)
    await kim.get_by_role("button", name=re.compile("^Rooms")).click()
    await kim.locator("#watch-list").get_by_role("button", name=re.compile("^Spring")).click()
    await expect(kim.locator("#watch-messages li", has_text=SECRET)).to_have_count(1)

    page = await new_page(browser, problems, expected_statuses=(401, 403))
    await sign_in(page, world.live.url, pat)
    await page.get_by_role("button", name="Your data").click()
    await page.get_by_role("dialog", name="Your data").get_by_role("button", name="Delete my account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("cannot be undone")
    await dialog.get_by_role("button", name="Delete my account").click()
    await expect(dialog.locator("#delete-error")).to_have_text("Type your password to confirm.")
    await dialog.get_by_label("Type your password to confirm").fill("not-my-password")
    await dialog.get_by_role("button", name="Delete my account").click()
    await expect(dialog.locator("#delete-error")).to_have_text("That password is not right.")
    assert await no_serious_violations(page, axe_source(), "delete account") == []
    await page.screenshot(path=str(artifacts / "delete-account.png"))
    await dialog.get_by_role("button", name="Keep my account").click()  # changing one's mind costs nothing
    await expect(dialog).to_be_hidden()
    your_data = page.get_by_role("dialog", name="Your data")  # back where it was opened from
    await expect(your_data.get_by_role("button", name="Delete my account…")).to_be_focused()

    await your_data.get_by_role("button", name="Delete my account…").click()
    await expect(dialog.get_by_label("Type your password to confirm")).to_have_value("")  # asked afresh
    await dialog.get_by_label("Type your password to confirm").fill(pat.password)
    await dialog.get_by_role("button", name="Delete my account").click()
    await expect(page.locator("#login-notice")).to_have_text("Your account has been deleted and your messages erased.")
    await expect(page.locator("#login-view")).to_be_visible()

    # the peer's page, live: the tombstone under "deleted user", the reply's quote erased too
    tombstone = peer.locator("#message-list li.msg-removed")
    await expect(tombstone.locator(".msg-tombstone")).to_have_text(ERASED)
    await expect(tombstone.locator(".msg-author")).to_have_text("deleted user")
    quote = peer.locator("#message-list .msg-quote")
    await expect(quote.locator(".quote-author")).to_have_text("deleted user")
    await expect(quote.locator(".quote-text")).to_have_text("message erased")
    await expect(peer.get_by_text(SECRET)).to_have_count(0)
    await expect(kim.locator("#watch-messages .msg-tombstone")).to_have_text([ERASED])
    await expect(kim.locator("#watch-messages .watch-msg-author").first).to_have_text("deleted user")
    await expect(kim.get_by_text(SECRET)).to_have_count(0)
    await peer.screenshot(path=str(artifacts / "deleted-user-tombstone.png"))

    await peer.reload()  # and from history
    await open_room(peer, "Spring")
    await expect(peer.locator("#message-list .msg-body.msg-tombstone")).to_have_text([ERASED])
    await expect(peer.locator("#message-list li.msg-removed .msg-author")).to_have_text("deleted user")
    await expect(peer.get_by_text(SECRET)).to_have_count(0)
    assert problems == []
