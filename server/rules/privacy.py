"""Exports and disclosures: who may disclose whose record, and what a download link is bound to.

A person always may export their own record (that is not a disclosure). Disclosing someone's
record to someone else is a program's act: admins, or active staff of the program, and only
of a person enrolled in that program. Moderators who are not staff cannot disclose anyone.
"""

from __future__ import annotations

from typing import Any

from server.rules.access import may_manage_program


def may_disclose(global_role: str, program_role: str | None, status: str | None, subject_enrolled: bool) -> bool:
    """May this person disclose the record of someone in the program (staff export, legal hold)?"""
    return subject_enrolled and may_manage_program(global_role, program_role, status)


def export_link_payload(user_id: int, session_id: str) -> dict[str, Any]:
    """What a download link signs: whose record, for which session (a link only works in the
    session that asked for it, so a leaked link alone opens nothing)."""
    return {"u": user_id, "s": session_id}


def export_link_matches(payload: Any, user_id: int, session_id: str) -> bool:
    """Is this verified link payload for this person, in this session?"""
    return bool(payload == export_link_payload(user_id, session_id))
