"""Who may manage a program: pure checks the HTTP handlers and the command line share.

A person's global role says what they are in the service (``admin``, ``staff``,
``participant``); their enrollment says what they are in one program (``staff`` or
``participant``, with a status). Admins manage every program; staff manage only programs
where they hold an active staff enrollment; nobody else manages anything.
"""

from __future__ import annotations


def may_create_program(global_role: str) -> bool:
    return global_role == "admin"


def may_manage_program(global_role: str, program_role: str | None, status: str | None) -> bool:
    """Cohorts, program rooms, invites, graduation, withdrawal, counsellors, the roster."""
    if global_role == "admin":
        return True
    return global_role == "staff" and program_role == "staff" and status == "active"


def may_moderate_room(global_role: str, room_role: str | None) -> bool:
    """Room-level tools (duty check-in, hold mode, schedule): the room's moderators and admins."""
    return global_role == "admin" or room_role == "moderator"


def may_moderate_program(
    global_role: str, program_role: str | None, status: str | None, moderates_a_room: bool
) -> bool:
    """Program-level moderation (warnings, notes, a person's history, bans, the queue): those who
    manage the program, and moderators of any of its rooms (a room's moderator handles its people)."""
    return may_manage_program(global_role, program_role, status) or moderates_a_room


def may_join_program_room(global_role: str, status: str | None) -> bool:
    """Who may be added to a program's room: staff accounts (a room may have moderators from the
    service's staff who are not enrolled) and people enrolled in the program, active or graduated.
    Never someone withdrawn or banned (only readmission gives rooms back), nor a participant of
    another program, who would then read the room, or as its moderator moderate the program."""
    return global_role in ("admin", "staff") or status in ("active", "alumni")
