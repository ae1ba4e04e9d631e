"""Group commit: one room's messages are stored in the order they arrived, whatever the writers."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial
from typing import Any

from server.ingest import Ingest
from server.metrics import Metrics
from server.settings import Settings
from server.store.events import NewMessage, Posted


class SlowFirstDatabase:
    """Stands in for the database: the first commit is slow, every later one is quick."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.calls = 0

    async def run_write(self, work: partial[list[Posted]]) -> list[Posted]:
        batch: list[NewMessage] = work.keywords["batch"]
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(0.05)
        self.stored.extend(message.body for message in batch)
        return [Posted(seq=None, refused="not_member") for _ in batch]


class NoHub:
    settings = Settings()
    metrics = Metrics()

    def publish_stored(self, *args: Any) -> None:
        raise AssertionError("nothing is stored here")


def _message(room: int, body: str) -> NewMessage:
    return NewMessage(room_id=room, author_id=1, author_name="Ann", body=body, client_id=str(uuid.uuid4()))


async def test_two_writers_never_reorder_a_room() -> None:
    db = SlowFirstDatabase()
    ingest = Ingest(db, NoHub(), writers=2)  # type: ignore[arg-type]
    ingest.start()
    first = ingest.submit(_message(7, "0"))
    await asyncio.sleep(0.01)  # a writer has taken "0" and is in its slow commit
    rest = [ingest.submit(_message(7, str(n))) for n in range(1, 10)]
    others = [ingest.submit(_message(8, f"other {n}")) for n in range(3)]  # another room may overtake
    await asyncio.gather(first, *rest, *others)
    await ingest.stop()
    assert [body for body in db.stored if not body.startswith("other")] == [str(n) for n in range(10)]
    assert db.stored.index("other 0") < db.stored.index("0")  # the second writer was not idle
