"""What erasing leaves behind, and when retention cuts off (server.rules.erasure)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from server.rules.accounts import username_problem
from server.rules.erasure import (
    DELETED_NAME,
    deleted_username,
    erased_data,
    erased_reason,
    may_delete_own_account,
    quote_erased,
    retention_cutoff,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
QUOTE = orjson.dumps({"reply_to": {"seq": 4, "author": {"id": 2, "display_name": "Pat"}, "excerpt": "hello"}}).decode()


@pytest.mark.parametrize(
    ("days", "cutoff"),
    [
        (None, None),
        (1, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
        (30, datetime(2026, 10, 29, 12, 0, tzinfo=UTC)),
    ],
)
def test_retention_cutoff_is_now_minus_the_period(days: int | None, cutoff: datetime | None) -> None:
    assert retention_cutoff(NOW, days) == cutoff


def test_an_erased_message_keeps_its_reply_reference_without_text_and_says_why() -> None:
    assert orjson.loads(erased_data(None, "expired")) == {"removed": "expired"}
    assert orjson.loads(erased_data(QUOTE, "deleted")) == {
        "reply_to": {"seq": 4, "author": {"id": 2, "display_name": "Pat"}, "excerpt": None},
        "removed": "deleted",
    }


def test_an_erased_messages_reason_is_what_its_data_says_else_a_moderators_removal() -> None:
    assert erased_reason(erased_data(QUOTE, "deleted")) == "deleted"
    assert erased_reason(erased_data(None, "expired")) == "expired"
    assert erased_reason(None) == "moderator"  # a moderator's removal leaves data as it was
    assert erased_reason(QUOTE) == "moderator"
    assert erased_reason('{"removed": "unknown"}') == "moderator"


def test_a_quote_of_an_erased_message_loses_its_text_and_a_deleted_writers_name() -> None:
    assert quote_erased(QUOTE, {5, 6}, "expired") is None  # quotes another message
    assert orjson.loads(quote_erased(QUOTE, {4}, "expired") or "") == {
        "reply_to": {"seq": 4, "author": {"id": 2, "display_name": "Pat"}, "excerpt": None, "removed": "expired"}
    }
    assert orjson.loads(quote_erased(QUOTE, {4}, "deleted") or "")["reply_to"]["author"] == {
        "id": 2,
        "display_name": DELETED_NAME,
    }


def test_a_deleted_username_can_never_be_registered_and_only_participants_delete_themselves() -> None:
    assert deleted_username(12) == "~deleted-12"
    assert username_problem(deleted_username(12)) is not None
    assert may_delete_own_account("participant")
    assert not may_delete_own_account("staff") and not may_delete_own_account("admin")
