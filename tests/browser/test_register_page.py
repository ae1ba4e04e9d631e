"""Registration through an invite link in Chromium: the person lands in their cohort room; a dead
invite says why, kindly, and creates nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.pages import DESKTOP, PHONE, Problems, new_page
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser

PASSWORD = "a-new-long-password"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _expired_link(world: World) -> str:
    invite_id = await world.expired_invite()
    return f"{world.live.url}/#invite={world.live.app.state.services.signers.invite.sign(invite_id)}"


async def _fill(page: Page, display_name: str, username: str, password: str = PASSWORD) -> None:
    form = page.locator("#register-form")
    await form.get_by_label("Display name").fill(display_name)
    await form.get_by_label("Username").fill(username)
    await form.get_by_label("Password", exact=True).fill(password)


async def _can_sign_in(world: World, username: str) -> bool:
    async with world.http() as http:
        answer = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    return answer.status_code == 200


async def test_registering_through_an_invite_lands_in_the_cohort_room(
    browser: Browser, world: World, artifacts: Path
) -> None:
    problems = Problems()
    link = (await world.invite())["url"]
    assert "#invite=" in link
    phone = await new_page(browser, problems, PHONE)
    await phone.goto(link)
    await expect(phone.locator("#register-invite")).to_have_text("You are invited to join Spring in Evening IOP.")
    await expect(phone.get_by_text("the only name other people in your group will see")).to_be_visible()
    await phone.screenshot(path=str(artifacts / "register-360.png"), full_page=True)

    page = await new_page(browser, problems, DESKTOP, expected_statuses=(401, 409))
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Join Alongside")).to_be_visible()
    await page.screenshot(path=str(artifacts / "register-1280.png"), full_page=True)

    # Checked before anything is sent: every problem by its field, focus on the first.
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.locator("#register-display-name-error")).to_contain_text("choose the name others will see")
    await expect(page.locator("#register-username-error")).to_contain_text("choose a username")
    await expect(page.locator("#register-display-name")).to_be_focused()
    await expect(page.locator("#register-display-name")).to_have_attribute("aria-invalid", "true")
    await _fill(page, "Riley", "no spaces please", "short")
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.locator("#register-username-error")).to_contain_text("letters, numbers, dots")
    await expect(page.locator("#register-password-error")).to_contain_text("at least 10 characters")
    await expect(page.locator("#register-display-name-error")).to_have_text("")

    # The server's refusal lands on its field: the username is taken.
    await _fill(page, "Riley", world.cast.participant.username)
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.locator("#register-username-error")).to_have_text(
        "That username is already taken. Please choose another one."
    )
    await expect(page.locator("#register-username")).to_be_focused()

    await page.locator("#register-username").fill("riley")
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.locator("#room-title")).to_have_text("Spring")
    assert "#invite" not in page.url and "invite=" not in page.url
    await expect(page.locator("#whoami")).to_have_text("Signed in as Riley")
    groups = page.locator("#room-list .room-group-title")
    await expect(groups).to_have_text(["My group", "Topics"])
    await expect(page.locator("#room-group-topic + ul .room-name")).to_have_text(["Mindfulness"])

    await page.locator("#composer-input").fill("Hello, I am new here")
    await page.locator("#composer-input").press("Enter")
    await expect(page.locator("#message-list .msg-mine .msg-body")).to_have_text(["Hello, I am new here"])
    history = await world.call(world.cast.staff_here, "GET", f"/api/rooms/{world.cast.cohort_room}/messages")
    assert [m["body"] for m in history.json()["messages"] if m["type"] == "message"] == ["Hello, I am new here"]

    # Another invite opened while signed in: it says so, and nothing changes unless asked.
    other = (await world.invite())["url"]
    await page.goto(other)
    await expect(page.locator("#register-signed-in-text")).to_have_text(
        "You are signed in as Riley on this device. This invite is for creating a new account."
    )
    await page.get_by_role("button", name="Go to my rooms").click()
    await expect(page.locator("#room-title")).to_have_text("Spring")
    assert "invite=" not in page.url
    await page.goto(other)
    await page.get_by_role("button", name="Sign out and use this invite").click()
    await expect(page.locator("#register-invite")).to_have_text("You are invited to join Spring in Evening IOP.")
    await expect(page.locator("#whoami")).to_be_hidden()

    # The same (single-use) link again: used up, and says what to do.
    again = await new_page(browser, problems)
    await again.goto(link)
    await expect(again.locator("#register-problem-text")).to_contain_text("This invite has already been used.")
    await expect(again.locator("#register-form")).to_be_hidden()
    await again.get_by_role("button", name="Sign in instead").click()
    await expect(again.locator("#login-view")).to_be_visible()
    assert "invite=" not in again.url
    assert problems == []


async def test_an_expired_invite_says_so_and_a_revoked_one_creates_nothing(browser: Browser, world: World) -> None:
    problems = Problems()
    page = await new_page(browser, problems, expected_statuses=(401, 410))
    await page.goto(await _expired_link(world))
    await expect(page.locator("#register-problem-text")).to_have_text(
        "This invite has expired. That is all right: your counsellor or program team can send you a new link."
    )
    await expect(page.locator("#register-form")).to_be_hidden()

    # Withdrawn while the form is open: the refusal replaces the form, and no account exists.
    invite = await world.invite()
    await page.goto(invite["url"])
    await expect(page.locator("#register-form")).to_be_visible()
    await _fill(page, "Sam", "sam")
    assert (await world.call(world.cast.staff_here, "DELETE", f"/api/invites/{invite['id']}")).status_code == 204
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.locator("#register-problem-text")).to_have_text(
        "This invite is no longer active. Your program team can send you a new link."
    )
    await expect(page.locator("#register-form")).to_be_hidden()
    assert not await _can_sign_in(world, "sam")
    assert problems == []
