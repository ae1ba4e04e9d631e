"""A room of 5,000 messages over ten days in real Chromium: scrolling from the latest message to
the very first loads page after page without a long task over 200 ms (PerformanceObserver
'longtask'), the page never holds more than a bounded number of messages, each day starts
with its separator, and "Latest messages" brings the newest back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import update

from server.store.database import Database
from server.store.events import NewMessage, append_messages
from server.store.models import Event
from tests.browser.pages import DESKTOP, Problems, new_page, open_room, sign_in
from tests.support.live import Live, live_server, settings_for
from tests.support.seed import Account, create_cast

ROOM = "A long-running group"
MESSAGES = 5000
DAYS = 10
BATCH = 500
LONG_TASK_MS = 200
MOST_RENDERED = 250  # the conversation keeps at most 200 events rendered (plus a few while new ones stream in)
events = Event.__table__  # type: ignore[attr-defined]

pytestmark = pytest.mark.browser


@dataclass
class LongRoom:
    live: Live
    reader: Account


def body(n: int) -> str:
    """Messages of varied length, as people write them."""
    words = ("one", "day", "at", "a", "time,", "and", "today", "I", "am", "grateful", "for", "this", "group")
    sentence = " ".join(words[: 1 + n % len(words)])
    return f"Message {n}: " + " ".join([sentence] * (1 + n % 4))


@pytest.fixture
async def long_room(sqlite_url: str) -> AsyncIterator[LongRoom]:
    db = Database(sqlite_url)
    cast = await create_cast(db, room_name=ROOM)
    people = (cast.ann.person, cast.ben.person)
    seqs: list[int] = []
    for start in range(1, MESSAGES + 1, BATCH):
        batch = [
            NewMessage(
                room_id=cast.room,
                author_id=people[n % 2].id,
                author_name=people[n % 2].display_name,
                body=body(n),
                client_id=str(uuid.uuid4()),
            )
            for n in range(start, start + BATCH)
        ]
        posted = await db.run_write(partial(append_messages, batch=batch))
        seqs.extend(p.seq for p in posted if p.seq is not None)
    assert len(seqs) == MESSAGES
    # Spread the messages over the last ten days, a tenth on each (noon UTC, a minute apart).
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    per_day = MESSAGES // DAYS
    async with db.write() as conn:
        for day in range(DAYS):
            first = seqs[day * per_day]
            for minute in range(per_day // 50):
                at = noon - timedelta(days=DAYS - 1 - day) + timedelta(minutes=minute)
                lo = first + minute * 50
                await conn.execute(
                    update(events)
                    .where(events.c.room_id == cast.room, events.c.seq >= lo, events.c.seq < lo + 50)
                    .values(created_at=at)
                )
    await db.dispose()
    async with live_server(settings_for(sqlite_url)) as live:
        yield LongRoom(live, cast.ann)


WATCH_LONG_TASKS = """() => {
  window.__longTasks = [];
  if (!PerformanceObserver.supportedEntryTypes.includes('longtask')) return false;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push(Math.round(entry.duration));
  }).observe({ type: 'longtask' });
  return true;
}"""

# Scroll to the top again and again, as a reader flicking upwards would, until the first message.
SCROLL_TO_THE_TOP = """async () => {
  const scroller = document.getElementById('message-scroller');
  const status = document.getElementById('history-status');
  const list = document.getElementById('message-list');
  const started = performance.now();
  let most = 0;
  let flicks = 0;
  const days = new Set();
  while (!status.textContent.includes('beginning of the conversation') && performance.now() - started < 120000) {
    scroller.scrollTop = 0;
    flicks += 1;
    await new Promise((done) => setTimeout(done, 25));
    most = Math.max(most, list.querySelectorAll(':scope > li.msg').length);
    for (const sep of list.querySelectorAll('.day-separator')) days.add(sep.dataset.day);
  }
  return {
    most,
    flicks,
    seconds: (performance.now() - started) / 1000,
    first: list.querySelector('li.msg .msg-body').textContent,
    days: days.size,
  };
}"""


async def test_scrolling_to_the_top_of_a_long_room_never_freezes(
    browser: Browser, long_room: LongRoom, artifacts: Path
) -> None:
    problems = Problems()
    page = await new_page(browser, problems, DESKTOP)
    await sign_in(page, long_room.live.url, long_room.reader)
    await open_room(page, ROOM)
    last = page.locator("#message-list li.msg .msg-body").last
    await expect(last).to_have_text(body(MESSAGES))
    assert await page.evaluate(WATCH_LONG_TASKS), "Chromium reports long tasks"

    climbed: dict[str, Any] = await page.evaluate(SCROLL_TO_THE_TOP)
    assert climbed["first"] == body(1), climbed
    assert climbed["most"] <= MOST_RENDERED, climbed
    assert climbed["days"] == DAYS, climbed  # every day had its separator on the way up
    await page.screenshot(path=str(artifacts / "conversation-long-room-top-1280.png"))
    long_tasks: list[int] = await page.evaluate("() => window.__longTasks")
    assert max(long_tasks, default=0) < LONG_TASK_MS, (long_tasks, climbed)

    jump = page.get_by_role("button", name="Latest messages")
    await expect(jump).to_be_visible()
    await jump.click()
    await expect(last).to_have_text(body(MESSAGES))
    await expect(last).to_be_in_viewport()
    assert await page.locator("#message-list > li.msg").count() <= MOST_RENDERED
    long_tasks = await page.evaluate("() => window.__longTasks")
    assert max(long_tasks, default=0) < LONG_TASK_MS, long_tasks
    assert problems == []
