"""Moderation as a participant sees it in Chromium, without reloads: a message removed by a
moderator becomes a tombstone live (and its reactions and the quotes of it go with it); the support
offered after a message that sounds like a crisis shows to its author only; the composer explains
a mute, a lock and slow mode and keeps the draft; reporting, "I'm worried about this person" and
muting someone for myself from a message's "More" menu."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.axe import axe_source, serious_violations
from tests.browser.layout import layout_problems
from tests.browser.pages import DESKTOP, PHONE, Problems, losing, new_page, open_room, sign_in
from tests.support.lifecycle_cast import enroll
from tests.support.seed import Account
from tests.support.world import World, program_world

pytestmark = pytest.mark.browser

CRISIS_HELD = "I can't go on like this"


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async with program_world(sqlite_url) as running:
        yield running


async def _ok(world: World, who: Account, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = await world.call(who, method, path, body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json() if answer.content else None


async def _in_spring(browser: Browser, world: World, who: Account, problems: Problems, width: int = DESKTOP) -> Page:
    page = await new_page(browser, problems, width)
    await sign_in(page, world.live.url, who)
    await open_room(page, "Spring")
    await expect(page.locator("#room-watch")).not_to_be_empty()  # joined: room_state arrived
    return page


def message(page: Page, body: str) -> Locator:
    return page.locator("#message-list li.msg").filter(has=page.locator(".msg-body", has_text=body))


async def send(page: Page, text: str) -> None:
    await page.locator("#composer-input").fill(text)
    await page.locator("#composer-input").press("Enter")
    await expect(message(page, text)).to_have_count(1)


async def no_serious_violations(page: Page) -> None:
    source = axe_source()
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        assert await serious_violations(page, source) == [], scheme
    await page.emulate_media(color_scheme=None, reduced_motion=None)


async def test_a_message_a_moderator_removes_becomes_a_tombstone_at_once_with_its_reactions_and_quotes(
    browser: Browser, world: World, artifacts: Path
) -> None:
    problems = Problems()
    cast = world.cast
    ria_account = await enroll(world.db, "ria", cast.program, cast.cohort)
    pat = await _in_spring(browser, world, cast.participant, problems)
    ria = await _in_spring(browser, world, ria_account, problems, PHONE)

    await send(ria, "Something hurtful that should not stay")
    harmful = message(pat, "Something hurtful that should not stay")
    await harmful.hover()
    await harmful.get_by_role("button", name="React to Ria").click()
    await pat.get_by_role("group", name="Choose a reaction").get_by_role("button", name="Heart").click()
    await expect(harmful.locator(".reaction")).to_have_text(["❤️1"])
    await harmful.get_by_role("button", name="Reply to Ria").click()
    await send(pat, "Please don't say that")
    seq = int(await harmful.get_attribute("data-seq") or 0)
    await harmful.hover()
    await harmful.get_by_role("button", name="Reply to Ria").click()  # a second answer, still being written
    await pat.locator("#composer-input").fill("And another thing")

    await _ok(world, cast.staff_here, "DELETE", f"/api/rooms/{cast.cohort_room}/messages/{seq}", {"reason": "abuse"})
    for page in (pat, ria):
        tomb = page.locator(f'#message-list li.msg[data-seq="{seq}"]')
        await expect(tomb.locator(".msg-body")).to_have_text("Removed by a moderator")
        await expect(tomb.locator(".reaction")).to_have_count(0)
        await expect(tomb.get_by_role("button")).to_have_count(0)  # nothing to react to, reply to or report
        reply = message(page, "Please don't say that")
        await expect(reply.locator(".quote-text")).to_have_text("removed by a moderator")
        await expect(page.locator("#room-view, #room-list").get_by_text("Something hurtful")).to_have_count(0)
    await expect(pat.locator("#announcer")).to_contain_text("A message was removed by a moderator.")
    await expect(pat.locator("#reply-bar")).to_be_hidden()  # the draft stays, without the quote
    await expect(pat.locator("#composer-input")).to_have_value("And another thing")
    await expect(pat.locator("#composer-error")).to_contain_text("was removed by a moderator")
    await pat.screenshot(path=str(artifacts / "moderation-tombstone-1280.png"))
    await ria.screenshot(path=str(artifacts / "moderation-tombstone-360.png"))

    # The history says the same after a reload.
    await pat.reload()
    await open_room(pat, "Spring")
    tomb = pat.locator(f'#message-list li.msg[data-seq="{seq}"]')
    await expect(tomb.locator(".msg-body")).to_have_text("Removed by a moderator")
    await expect(message(pat, "Please don't say that").locator(".quote-text")).to_have_text("removed by a moderator")
    await expect(pat.locator("#room-view, #room-list").get_by_text("Something hurtful")).to_have_count(0)
    await no_serious_violations(pat)
    assert problems == []


async def test_support_after_a_message_that_sounds_like_a_crisis_shows_to_its_author_only(
    browser: Browser, world: World, artifacts: Path
) -> None:
    problems = Problems()
    cast = world.cast
    ria_account = await enroll(world.db, "ria", cast.program, cast.cohort)
    pat = await _in_spring(browser, world, cast.participant, problems, PHONE)
    ria = await _in_spring(browser, world, ria_account, problems)
    pat_laptop = await _in_spring(browser, world, cast.participant, problems)

    await send(pat, "I want to end it all")
    for page in (pat, pat_laptop):
        card = message(page, "I want to end it all").locator(".crisis-card")
        await expect(card.get_by_role("heading")).to_have_text("You don’t have to carry this alone")
        await expect(card.get_by_role("heading")).to_be_in_viewport()  # its top is brought into view
        await expect(card).to_contain_text("Only you can see this.")
        await expect(card.get_by_role("link", name="Call or text 988")).to_have_attribute("href", "tel:988")
        await expect(card.get_by_role("link", name="Text 988", exact=True)).to_have_attribute("href", "sms:988")
        await expect(card.get_by_role("link", name="Text HOME to 741741")).to_have_attribute(
            "href", "sms:741741?body=HOME"
        )
    await expect(pat.locator("#announcer")).to_contain_text("Only you can see this")

    await expect(message(ria, "I want to end it all")).to_have_count(1)  # delivered as usual
    await expect(ria.locator(".crisis-card")).to_have_count(0)
    await expect(ria.locator("#notices")).to_be_hidden()
    assert await layout_problems(pat) == []
    await no_serious_violations(pat)
    await pat.screenshot(path=str(artifacts / "moderation-crisis-card-360.png"))
    await pat_laptop.screenshot(path=str(artifacts / "moderation-crisis-card-1280.png"))

    # Reloading in a hard moment does not take the help away (this tab keeps it).
    await pat.reload()
    await open_room(pat, "Spring")
    kept = message(pat, "I want to end it all").locator(".crisis-card")
    await expect(kept.get_by_role("link", name="Call or text 988")).to_have_attribute("href", "tel:988")

    await message(pat, "I want to end it all").get_by_role("button", name="Hide this").click()
    await expect(pat.locator(".crisis-card")).to_have_count(0)
    await expect(message(pat, "I want to end it all")).to_be_focused()
    await expect(pat.get_by_role("button", name="Get help now")).to_be_visible()
    await pat.reload()  # hidden stays hidden
    await open_room(pat, "Spring")
    await expect(message(pat, "I want to end it all")).to_have_count(1)
    await expect(pat.locator(".crisis-card")).to_have_count(0)

    # Signing out leaves nothing of it in the tab.
    await expect(pat_laptop.locator(".crisis-card")).to_have_count(1)
    assert await _kept_support(pat_laptop) != []
    await pat_laptop.locator("#logout-button").click()
    await expect(pat_laptop.locator("#login-form")).to_be_visible()
    assert await _kept_support(pat_laptop) == []
    assert problems == []


async def _kept_support(page: Page) -> list[str]:
    """The keys of the support cards this tab keeps (client_web/js/kept_support.js)."""
    keys: list[str] = await page.evaluate(
        "Object.keys(sessionStorage).filter((key) => key.startsWith('alongside.support.'))"
    )
    return keys


async def test_the_composer_explains_a_mute_a_lock_and_slow_mode_and_keeps_the_draft(
    browser: Browser, world: World, artifacts: Path
) -> None:
    problems = Problems()
    cast = world.cast
    room = f"/api/rooms/{cast.cohort_room}"
    pat = await _in_spring(browser, world, cast.participant, problems, PHONE)
    composer = pat.locator("#composer-input")
    await composer.fill("A draft I am still writing")

    # Muted by a moderator: the composer gives way to the reason and the end; the draft waits.
    body = {"user": cast.participant.person.id, "minutes": 30, "reason": "Let's take a breather"}
    await _ok(world, cast.staff_here, "POST", f"{room}/mutes", body)
    await expect(pat.locator("#composer")).to_be_hidden()
    closed = pat.locator("#composer-closed-text")
    await expect(closed).to_contain_text("A moderator has paused your posting here until")
    await expect(closed).to_contain_text("“Let's take a breather”")
    await expect(pat.locator("#announcer")).to_contain_text("A moderator has paused your posting in Spring")
    laptop = await _in_spring(browser, world, cast.participant, problems)  # opened now: knows from the room list
    await expect(laptop.locator("#composer")).to_be_hidden()
    await expect(laptop.locator("#composer-closed-text")).to_contain_text("A moderator has paused your posting here")
    await pat.screenshot(path=str(artifacts / "moderation-muted-360.png"))
    await _ok(world, cast.staff_here, "DELETE", f"{room}/mutes/{cast.participant.person.id}")
    await expect(pat.locator("#composer")).to_be_visible()
    await expect(laptop.locator("#composer")).to_be_visible()
    await expect(composer).to_have_value("A draft I am still writing")

    # Locked: only moderators post; the draft waits again.
    await _ok(world, cast.staff_here, "PATCH", room, {"locked": True, "reason": "cooling down"})
    await expect(pat.locator("#composer")).to_be_hidden()
    await expect(closed).to_have_text(
        "A moderator has locked this room for now, so only moderators can post. "
        "You can still read every message, and your draft is kept."
    )
    await _ok(world, cast.staff_here, "PATCH", room, {"locked": False, "reason": "open again"})
    await expect(pat.locator("#composer")).to_be_visible()
    await expect(composer).to_have_value("A draft I am still writing")

    # Slow mode: the line says the pace; after a message, a countdown, and Enter keeps the words.
    await _ok(world, cast.staff_here, "PATCH", room, {"slow_seconds": 120, "reason": "busy evening"})
    slow = pat.locator("#composer-slow")
    await expect(slow).to_have_text("Slow mode is on: one message every 2 minutes per person.")
    await composer.press("Enter")
    await expect(message(pat, "A draft I am still writing")).to_have_count(1)
    await expect(slow).to_contain_text("Slow mode: you can send your next message in ")
    await expect(laptop.locator("#composer-slow")).to_contain_text(
        "you can send your next message in "
    )  # my other device
    await composer.fill("And one more thing")
    await composer.press("Enter")
    await expect(pat.locator("#composer-error")).to_contain_text("Your message is kept in the box")
    await expect(composer).to_have_value("And one more thing")
    await expect(pat.locator("#pending-list li")).to_have_count(0)
    assert await layout_problems(pat) == []
    await no_serious_violations(pat)
    await pat.screenshot(path=str(artifacts / "moderation-slow-mode-360.png"))
    assert problems == []


async def test_a_device_that_missed_my_other_message_is_refused_by_slow_mode_and_sends_it_by_itself_later(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    await _ok(world, cast.staff_here, "PATCH", f"/api/rooms/{cast.cohort_room}", {"slow_seconds": 3, "reason": "pace"})
    phone = await _in_spring(browser, world, cast.participant, problems, PHONE)
    stale = await new_page(browser, problems)
    await stale.route_web_socket("**/ws", losing("message"))  # it never hears of the phone's message
    await sign_in(stale, world.live.url, cast.participant)
    await open_room(stale, "Spring")
    await expect(stale.locator("#composer-slow")).to_have_text(
        "Slow mode is on: one message every 3 seconds per person."
    )

    await send(phone, "From my phone")
    await stale.locator("#composer-input").fill("From my laptop")
    await stale.locator("#composer-input").press("Enter")
    waiting = stale.locator("#pending-list li.msg-failed")
    await expect(waiting.locator(".msg-error")).to_contain_text("Slow mode is on here, so this was not sent yet.")
    await expect(stale.locator("#composer-slow")).to_contain_text("you can send your next message in")
    await expect(message(phone, "From my laptop")).to_have_count(1, timeout=15_000)  # re-sent by itself
    await expect(message(stale, "From my laptop")).to_have_count(1, timeout=15_000)
    await expect(stale.locator("#pending-list li")).to_have_count(0)
    assert problems == []


async def test_report_worry_and_mute_for_me_from_a_message(browser: Browser, world: World, artifacts: Path) -> None:
    problems = Problems()
    cast = world.cast
    ria_account = await enroll(world.db, "ria", cast.program, cast.cohort)
    pat = await _in_spring(browser, world, cast.participant, problems)
    ria = await _in_spring(browser, world, ria_account, problems, PHONE)
    await send(ria, "Nobody would notice if I was gone")
    await send(ria, "You are all idiots")

    # Report: a reason is asked for, then the moderators' queue holds it.
    rude = message(pat, "You are all idiots")
    await rude.hover()
    await rude.get_by_role("button", name="More for Ria’s message").click()
    await (
        pat.get_by_role("group", name="More for this message").get_by_role("button", name="Report this message").click()
    )
    dialog = pat.get_by_role("dialog", name="Report this message")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Ria is not told who reported it.")
    await expect(dialog.get_by_label("What is wrong with this message?")).to_be_focused()
    await dialog.get_by_role("button", name="Send report").click()
    await expect(dialog.locator("#flag-error")).to_contain_text("Please say in a few words")
    await no_serious_violations(pat)
    await pat.screenshot(path=str(artifacts / "moderation-report-1280.png"))
    await dialog.get_by_label("What is wrong with this message?").fill("Insulting everyone")
    await dialog.get_by_role("button", name="Send report").click()
    await expect(dialog).to_be_hidden()
    await expect(pat.locator("#composer-error")).to_have_text("Thank you. The moderators will look at this message.")

    # I'm worried about this person: it explains first, the note is optional.
    worrying = message(pat, "Nobody would notice")
    await worrying.hover()
    await worrying.get_by_role("button", name="More for Ria’s message").click()
    await pat.get_by_role("button", name="I’m worried about this person").click()
    dialog = pat.get_by_role("dialog", name="I’m worried about this person")
    await expect(dialog).to_contain_text("Ria is not told who raised it.")
    await dialog.get_by_role("button", name="Let a moderator know").click()
    await expect(dialog).to_be_hidden()
    await expect(pat.locator("#composer-error")).to_have_text(
        "Thank you for looking out for Ria. A moderator has been told."
    )

    queue = await _ok(world, cast.staff_here, "GET", f"/api/queue?status=open&program={cast.program}")
    kinds = sorted(item["kind"] for item in queue["items"])
    assert "report" in kinds and "concern" in kinds, kinds

    # Mute for me: Ria's messages fold into a line with "Show"; Ria's own page is unchanged.
    await rude.hover()
    await rude.get_by_role("button", name="More for Ria’s message").click()
    await pat.get_by_role("button", name="Mute Ria for me").click()
    folded = pat.locator("#message-list li.msg-hidden")
    await expect(folded).to_have_count(2)
    await expect(folded.first).to_contain_text("Message from a person you muted")
    await expect(pat.locator("#room-view, #room-list").get_by_text("You are all idiots")).to_have_count(0)
    await expect(message(ria, "You are all idiots")).to_have_count(1)
    await send(ria, "Still here")
    await expect(folded).to_have_count(3)
    await folded.last.get_by_role("button", name="Show this message").click()
    await expect(message(pat, "Still here")).to_contain_text("(muted by you)")
    await no_serious_violations(pat)
    await pat.screenshot(path=str(artifacts / "moderation-muted-for-me-1280.png"))

    # After a reload the mute holds (the server keeps it); unmuting shows everything again.
    await pat.reload()
    await open_room(pat, "Spring")
    await expect(folded).to_have_count(3)
    await folded.first.get_by_role("button", name="Show this message").click()
    shown = message(pat, "Nobody would notice")
    await shown.hover()
    await shown.get_by_role("button", name="More for Ria’s message").click()
    await pat.get_by_role("button", name="Unmute Ria for me").click()
    await expect(folded).to_have_count(0)
    await expect(message(pat, "You are all idiots")).to_have_count(1)
    assert problems == []


async def test_held_messages_approved_or_not_and_a_warning_reach_their_author_privately(
    browser: Browser, world: World
) -> None:
    problems = Problems()
    cast = world.cast
    room = f"/api/rooms/{cast.cohort_room}"
    ria_account = await enroll(world.db, "ria", cast.program, cast.cohort)
    await _ok(world, cast.staff_here, "PATCH", room, {"hold_mode": "always"})
    pat = await _in_spring(browser, world, cast.participant, problems, PHONE)
    ria = await _in_spring(browser, world, ria_account, problems)

    # Held, and it sounded like a crisis: the support shows under the waiting message, to pat only.
    await pat.locator("#composer-input").fill(CRISIS_HELD)
    await pat.locator("#composer-input").press("Enter")
    waiting = pat.locator("#pending-list li.msg-held")
    await expect(waiting.locator(".msg-status")).to_have_text("Waiting for a moderator’s review")
    await expect(waiting.locator(".crisis-card .crisis-intro")).to_contain_text("Only you can see this.")
    await expect(waiting.locator(".crisis-card")).not_to_contain_text("posted as usual")
    await pat.locator("#composer-input").fill("Names and addresses of people")
    await pat.locator("#composer-input").press("Enter")
    await expect(waiting).to_have_count(2)

    held = (await _ok(world, cast.staff_here, "GET", f"{room}/held"))["held"]
    by_body = {item["body"]: item["id"] for item in held}
    approve = f"{room}/held/{by_body[CRISIS_HELD]}/approve"
    await _ok(world, cast.staff_here, "POST", approve)
    for page in (pat, ria):
        await expect(message(page, "I can't go on like this")).to_have_count(1)
    await expect(pat.locator("#announcer")).to_contain_text("A moderator approved your message.")
    await expect(message(pat, "I can't go on like this").locator(".crisis-card")).to_have_count(1)  # it followed
    await expect(ria.locator(".crisis-card")).to_have_count(0)

    reject = f"{room}/held/{by_body['Names and addresses of people']}/reject"
    await _ok(world, cast.staff_here, "POST", reject, {"reason": "Please keep others' details private"})
    refused = pat.locator("#pending-list li.msg-failed")
    await expect(refused.locator(".msg-status")).to_have_text("Not approved")
    await expect(refused.locator(".msg-error")).to_contain_text("“Please keep others' details private”")
    await expect(ria.get_by_text("Names and addresses")).to_have_count(0)
    await pat.locator("#composer-input").fill("")
    await refused.get_by_role("button", name="Edit").click()
    await expect(pat.locator("#composer-input")).to_have_value("Names and addresses of people")
    await expect(pat.locator("#composer-input")).to_be_focused()
    await expect(refused).to_have_count(0)

    # A warning: a private note at the top with its reason, put away with "Got it".
    await _ok(
        world,
        cast.staff_here,
        "POST",
        f"/api/programs/{cast.program}/warnings",
        {"user": cast.participant.person.id, "reason": "Sharing other people's details"},
    )
    note = pat.locator("#notices .notice-card")
    await expect(note.get_by_role("heading")).to_have_text("A message from your moderators")
    await expect(note).to_contain_text("The reason given: “Sharing other people's details”.")
    await expect(ria.locator("#notices")).to_be_hidden()
    assert await layout_problems(pat) == []
    await no_serious_violations(pat)
    await note.get_by_role("button", name="Got it").click()
    await expect(pat.locator("#notices")).to_be_hidden()
    assert problems == []
