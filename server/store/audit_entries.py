"""The audit entries of actions that both the HTTP API and the operator's commands take, built
in one place so both write the same record (the command line's actor is None: the operator)."""

from __future__ import annotations

from server.store.audit import Entry
from server.store.invites import InviteInfo
from server.store.programs import CohortInfo


def program_created(actor_id: int | None, program_id: int) -> Entry:
    return Entry(actor_id, "program.create", program_id=program_id)


def cohort_created(actor_id: int | None, cohort: CohortInfo) -> Entry:
    return Entry(
        actor_id, "cohort.create", program_id=cohort.program_id, room_id=cohort.room_id, target=f"cohort {cohort.id}"
    )


def invite_created(actor_id: int | None, invite: InviteInfo) -> Entry:
    """Names the invite and what it admits; never its token (that would let a reader use it)."""
    return Entry(
        actor_id,
        "invite.create",
        program_id=invite.program_id,
        target=f"invite {invite.id}",
        detail={"role": invite.role, "cohort": invite.cohort_id, "max_uses": invite.max_uses},
    )
