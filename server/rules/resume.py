"""Where a (re)joining client's stream starts: the rule behind `join`'s `since`."""

from __future__ import annotations


def resume_point(since: int | None, last_seq: int) -> int | None:
    """The seq after which the backlog starts, or None when `since` cannot be honoured.

    ``since=None`` means "from now on" (start after the latest event); a ``since`` beyond
    the room's latest seq is a client bug or a different room's seq, so it is refused.
    """
    if since is None:
        return last_seq
    if since < 0 or since > last_seq:
        return None
    return since
