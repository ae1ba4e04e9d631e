"""Changing my password in the chat client (Your data → Change my password…): a wrong current
password is refused in words, a good change keeps this page signed in and signs my other
device out at once, and only the new password signs in afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.axe import axe_source
from tests.browser.pages import Problems, new_page, sign_in, sign_in_as
from tests.browser.test_console_page import no_serious_violations
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser
NEW_PASSWORD = "three calm words together"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def test_changing_my_password_signs_out_my_other_device(browser: Browser, world: World, artifacts: Path) -> None:
    pat = world.cast.participant
    problems = Problems()
    other = await new_page(browser, problems, expected_statuses=(401, 403))
    await sign_in(other, world.live.url, pat)
    page = await new_page(browser, problems, expected_statuses=(401, 403))
    await sign_in(page, world.live.url, pat)

    await page.get_by_role("button", name="Your data").click()
    await page.get_by_role("dialog", name="Your data").get_by_role("button", name="Change my password…").click()
    dialog = page.get_by_role("dialog", name="Change your password")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Current password").fill("not my password at all")
    await dialog.get_by_label("New password").fill(NEW_PASSWORD)
    await dialog.get_by_role("button", name="Change password").click()
    await expect(dialog.locator("#password-error")).to_have_text("That is not your current password.")
    await expect(dialog.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    assert await no_serious_violations(page, axe_source(), "change password") == []
    await page.screenshot(path=str(artifacts / "change-password.png"))

    await dialog.get_by_label("Current password").fill(pat.password)
    await dialog.get_by_role("button", name="Change password").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#password-done")).to_have_text(
        "Your password is changed. Your other device was signed out."
    )
    await expect(other.locator("#login-form")).to_be_visible()  # its socket closed with 4001
    await page.keyboard.press("Escape")
    await expect(page.locator("#app-view")).to_be_visible()
    await expect(page.locator("#login-form")).to_be_hidden()

    async with httpx.AsyncClient(base_url=world.live.url) as http:
        old = await http.post("/api/auth/login", json={"username": pat.username, "password": pat.password})
    assert old.status_code == 401
    await sign_in_as(other, world.live.url, pat.username, NEW_PASSWORD)
    assert problems == []
