"""'Your data' in the chat client: the person reads who their record was disclosed to and
downloads their export through the short-lived link; in the console, staff export a person's
record for a named recipient, record a legal hold, and see both accounted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from playwright.async_api import Browser, expect

from server.http.privacy import STAFF_EXPORT_SCOPE
from tests.browser.axe import axe_source
from tests.browser.layout import layout_problems
from tests.browser.pages import PHONE, Problems, new_page, sign_in
from tests.browser.test_console_page import no_serious_violations, open_console
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def test_a_person_reads_their_disclosures_and_downloads_their_data(
    browser: Browser, world: World, tmp_path: Path, artifacts: Path
) -> None:
    cast = world.cast
    pat = cast.participant
    socket = await world.socket(pat)
    assert (await socket.say(cast.cohort_room, "checking in after group"))["type"] == "ack"
    await socket.close()
    disclosed = {"recipient": "Dr. Rivera, County Health", "purpose": "continuity of care"}
    person = f"/api/programs/{cast.program}/people/{pat.person.id}/export"
    assert (await world.call(cast.staff_here, "POST", person, disclosed)).status_code == 200

    problems = Problems()
    page = await new_page(browser, problems)
    await sign_in(page, world.live.url, pat)
    await page.get_by_role("button", name="Your data").click()
    dialog = page.get_by_role("dialog", name="Your data")
    await expect(dialog).to_be_visible()
    entries = dialog.locator("#disclosures-list li")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("Dr. Rivera, County Health")
    await expect(entries.first).to_contain_text("Purpose: continuity of care")
    await expect(entries.first).to_contain_text(cast.staff_here.person.display_name)
    assert await no_serious_violations(page, axe_source(), "your data") == []
    await page.screenshot(path=str(artifacts / "your-data.png"))

    async with page.expect_download() as waiting:
        await dialog.get_by_role("button", name="Download my data").click()
    download = await waiting.value
    assert download.suggested_filename.startswith(f"alongside-export-{pat.username}-")
    saved = tmp_path / "export.json"
    await download.save_as(saved)
    document = orjson.loads(saved.read_bytes())
    assert "42 CFR" in document["notice"]["text"]
    assert [m["body"] for m in document["messages"]] == ["checking in after group"]
    assert [d["recipient"] for d in document["disclosures"]] == [disclosed["recipient"]]
    await expect(dialog.locator("#data-status")).to_contain_text("Your download has started")
    assert problems == []


async def test_staff_export_a_record_and_record_a_legal_hold_from_the_console(
    browser: Browser, world: World, tmp_path: Path, artifacts: Path
) -> None:
    cast = world.cast
    pat = cast.participant
    socket = await world.socket(pat)
    assert (await socket.say(cast.cohort_room, "a rough week but I came"))["type"] == "ack"
    await socket.close()
    problems = Problems()
    kim = await open_console(browser, world, cast.staff_here, problems)
    await kim.get_by_role("button", name=re.compile("^Rooms")).click()
    await kim.locator("#watch-list").get_by_role("button", name=re.compile("^Spring")).click()
    message = kim.locator("#watch-messages li", has_text="a rough week but I came")
    await message.get_by_role("button", name=re.compile("^Person")).click()
    block = kim.locator("#disclose-block")
    await expect(block).to_be_visible()
    await expect(block.locator("#disclose-list")).to_have_text("Not disclosed to anyone yet.")

    await block.get_by_role("button", name="Export their record").click()
    await expect(block.locator("#disclose-error")).to_have_text("Name who receives the record.")
    await block.get_by_label("Recipient (who receives it)").fill("Dr. Rivera, County Health")
    await block.get_by_label(re.compile("^Purpose")).fill("continuity of care, consent form 14")
    async with kim.expect_download() as waiting:
        await block.get_by_role("button", name="Export their record").click()
    download = await waiting.value
    saved = tmp_path / "staff-export.json"
    await download.save_as(saved)
    document = orjson.loads(saved.read_bytes())
    assert document["export"]["kind"] == "staff_export"
    assert "42 CFR" in document["notice"]["text"]
    assert [m["body"] for m in document["messages"]] == ["a rough week but I came"]
    await expect(block.locator("#disclose-list li")).to_have_count(1)
    await expect(block.locator("#disclose-list li")).to_contain_text("Exported to Dr. Rivera, County Health")

    await block.get_by_role("button", name="Record a disclosure made under legal process…").click()
    await block.get_by_label("Recipient (court, agency)").fill("Cook County Circuit Court")
    await block.get_by_label("Legal process (order, case number)").fill("order 2026-CV-114")
    await block.get_by_role("button", name="Record legal hold").click()
    await expect(block.locator("#hold-error")).to_have_text("Say what was disclosed.")
    await block.get_by_label("What was disclosed").fill("messages of March 2026")
    await block.get_by_role("button", name="Record legal hold").click()
    await expect(block.locator("#disclose-list li")).to_have_count(2)
    await expect(block.locator("#disclose-list li").first).to_contain_text(
        "Disclosed under legal process to Cook County Circuit Court"
    )
    assert await no_serious_violations(kim, axe_source(), "console share their record") == []
    await kim.screenshot(path=str(artifacts / "console-disclose-1280.png"))

    seen = (await world.call(pat, "GET", "/api/me/disclosures")).json()["disclosures"]
    assert [(d["kind"], d["recipient"], d["purpose"], d["scope"]) for d in seen] == [
        ("legal_hold", "Cook County Circuit Court", "order 2026-CV-114", "messages of March 2026"),
        ("staff_export", "Dr. Rivera, County Health", "continuity of care, consent form 14", STAFF_EXPORT_SCOPE),
    ]
    assert problems == []


async def test_your_data_fits_a_phone(browser: Browser, world: World, artifacts: Path) -> None:
    problems = Problems()
    page = await new_page(browser, problems, PHONE)
    await sign_in(page, world.live.url, world.cast.participant)
    assert await layout_problems(page) == []
    await page.get_by_role("button", name="Your data").click()
    dialog = page.get_by_role("dialog", name="Your data")
    await expect(dialog.locator("#disclosures-empty")).to_be_visible()
    assert await layout_problems(page) == []
    await page.screenshot(path=str(artifacts / f"your-data-{PHONE}.png"))
    assert problems == []
