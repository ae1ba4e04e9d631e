"""Who belongs in which room of a program, and which enrollment moves are allowed.

Pure functions: the store applies them when someone enrolls, graduates, withdraws or
when a room is created, so membership always follows the roster.
"""

from __future__ import annotations

PROGRAM_ROLES = ("participant", "staff")
STATUSES = ("active", "alumni", "withdrawn", "banned")

# (from, to): graduation, withdrawal or discharge (also of alumni), readmission, and a
# moderator's ban (from any status; a banned person is never readmitted, only unbanned)
TRANSITIONS = frozenset(
    {
        ("active", "alumni"),
        ("active", "withdrawn"),
        ("alumni", "withdrawn"),
        ("withdrawn", "active"),
        ("active", "banned"),
        ("alumni", "banned"),
        ("withdrawn", "banned"),
    }
)
# lifting a ban is its own step: back to the status the person had before it
UNBANS = frozenset({("banned", "active"), ("banned", "alumni"), ("banned", "withdrawn")})


def transition_allowed(program_role: str, from_status: str, to_status: str, lifting_ban: bool = False) -> bool:
    """Staff are never graduated nor banned (they are withdrawn); everything else follows
    TRANSITIONS, or UNBANS when a ban is being lifted."""
    if program_role == "staff" and to_status in ("alumni", "banned"):
        return False
    return (from_status, to_status) in (UNBANS if lifting_ban else TRANSITIONS)


def room_role(
    *,
    room_kind: str,
    room_cohort: int | None,
    program_role: str,
    status: str,
    person_cohort: int | None,
    alumni_post_in_cohort: bool,
    is_subject: bool = False,
    current: str | None = None,
    removed: bool = False,
) -> str | None:
    """The role a person should hold in one room of their program, or None for no access.

    - withdrawn or banned: nowhere (history stays for staff);
    - staff: moderate the cohort, topic and alumni rooms and the staff back-channels; in direct
      rooms keep what the counsellor assignment gave them (``current``);
    - participants: their own cohort's room and the topic rooms; alumni also the alumni
      rooms, and their cohort room becomes read-only unless the program lets alumni post;
    - a direct room's participant (``is_subject``): member while active, reader as alumni;
    - participants never belong to a staff back-channel (kind ``staff``);
    - a moderator removed them from the room (``removed``): not there, whatever else holds,
      until a moderator adds them back.
    """
    if status in ("withdrawn", "banned") or removed:
        return None
    if room_kind == "direct":
        if is_subject:
            return "member" if status == "active" else "reader"
        return current if program_role == "staff" else None
    if program_role == "staff":
        return "moderator" if status == "active" and room_kind in ("cohort", "topic", "alumni", "staff") else None
    if room_kind == "cohort":
        if room_cohort is None or room_cohort != person_cohort:
            return None
        if status == "alumni" and not alumni_post_in_cohort:
            return "reader"
        return "member"
    if room_kind == "topic":
        return "member"
    if room_kind == "alumni":
        return "member" if status == "alumni" else None
    return None
