"""Tables, defined once with SQLModel; Alembic migrations are written from these.

Invariant: every event that enters a room's history is a row of ``events`` with the
room's next ``seq``; ``rooms.last_seq`` is the counter that hands seqs out, updated in the
same transaction as the insert, so seqs are gap-free and strictly increasing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_ts())
    # the name staff know the person by (from their invite); peers only ever see display_name
    real_name: str | None = Field(default=None, max_length=100)
    # set when the person deleted their account: the row stays (it is what history, the audit
    # trail and staff records point at) with the personal data gone (server.store.deletion)
    deleted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AuthSession(SQLModel, table=True):
    """A server-side session: the signed token names it, so it can be revoked."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Room(SQLModel, table=True):
    __tablename__ = "rooms"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=_ts())
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    program_id: int | None = Field(default=None, foreign_key="programs.id", index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohorts.id", index=True)
    # direct rooms: the participant the room is for (their counsellor is its moderator)
    subject_id: int | None = Field(default=None, foreign_key="users.id")
    # when new messages wait for review instead of being posted: off, unmonitored, always
    hold_mode: str = Field(default="off", max_length=16, sa_column_kwargs={"server_default": "off"})
    # monitored hours: JSON {"timezone": "America/Chicago", "windows": [{"days": [...], "start", "end"}]}
    schedule: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # bumped by every change to what decides the room's monitored state (schedule, hold mode,
    # duty check-ins), so each process notices one it was not told about on its periodic pass
    state_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # locked: only moderators post; slow mode: one message per slow_seconds per person (0: off)
    locked: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    slow_seconds: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # a staff back-channel room (kind "staff") names the group room it serves
    parent_id: int | None = Field(default=None, foreign_key="rooms.id", index=True)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"

    room_id: int = Field(foreign_key="rooms.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    role: str = Field(max_length=16)  # member, moderator, or reader (history only: after graduation)
    created_at: datetime = Field(sa_column=_ts())
    # listen-only until then (the member chose to observe for a while); sends are refused
    listen_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # the seq up to which the person has read the room (only moves forward); 0: never read
    last_read_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # a moderator muted the person in this room until then; their sends get `muted`
    muted_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # when the person last posted here: written only in slow-mode rooms, where it decides
    last_posted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # False while a new member's first posts wait for review (the program's hold_first_posts)
    trusted: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class RoomRemoval(SQLModel, table=True):
    """A moderator took the person out of the room: it lasts until a moderator adds them back.

    Memberships of program rooms follow the enrollment (``store.enrollments.sync_memberships``);
    without this record a graduation, a readmission or a counsellor assignment would put the
    person straight back into the room they were removed from.
    """

    __tablename__ = "room_removals"

    room_id: int = Field(foreign_key="rooms.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    by_user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=_ts())


class Event(SQLModel, table=True):
    """One entry of a room's history: a message, a membership change, and later others."""

    __tablename__ = "events"
    # client_id leads so that "which of these client_ids are stored?" is one index lookup
    __table_args__ = (Index("uq_events_client", "client_id", "room_id", "author_id", unique=True),)

    room_id: int = Field(foreign_key="rooms.id", primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    type: str = Field(max_length=32)
    author_id: int | None = Field(default=None, foreign_key="users.id")
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    client_id: str | None = Field(default=None, max_length=36)
    # JSON: a non-message event's fields; a reply's {"reply_to": {"seq", "author", "excerpt"}}
    data: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=_ts())


class Reaction(SQLModel, table=True):
    """A reaction someone gives a message now: the fold of the room's ``reaction`` events.

    Kept as rows so "does this change anything?" is one primary-key lookup.
    """

    __tablename__ = "reactions"
    __table_args__ = (
        ForeignKeyConstraint(["room_id", "target_seq"], ["events.room_id", "events.seq"], name="fk_reactions_target"),
    )

    room_id: int = Field(primary_key=True)
    target_seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    emoji: str = Field(max_length=16, primary_key=True)


class Program(SQLModel, table=True):
    """A treatment program (e.g. "Evening IOP"): cohorts, staff, and program-wide rooms."""

    __tablename__ = "programs"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    # may alumni keep posting in their cohort's room after graduation (else read-only)?
    alumni_post_in_cohort: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # a new participant's messages are held for review until this many were approved (0: off)
    hold_first_posts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # message bodies older than this many days are erased (server.store.retention); None: kept
    retention_days: int | None = Field(default=None)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=_ts())


class Cohort(SQLModel, table=True):
    """A group that starts a program together; it has one group room."""

    __tablename__ = "cohorts"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="programs.id", index=True)
    name: str = Field(max_length=100)
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    deleted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Enrollment(SQLModel, table=True):
    """A person's place in a program: participant (in a cohort) or staff, and their status."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "program_id", name="uq_enrollments_user_program"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    program_id: int = Field(foreign_key="programs.id", index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohorts.id", index=True)
    role: str = Field(max_length=16)  # participant or staff
    status: str = Field(max_length=16)  # active, alumni, withdrawn or banned
    created_at: datetime = Field(sa_column=_ts())
    # the invite they registered with (None: enrolled by staff, the command line, or before 0008); a ban withdraws it
    invite_id: str | None = Field(default=None, foreign_key="invites.id", max_length=32)


class EnrollmentTransition(SQLModel, table=True):
    """Append-only: every status an enrollment entered, who moved it, and when."""

    __tablename__ = "enrollment_transitions"

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollments.id", index=True)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    by_user_id: int | None = Field(default=None, foreign_key="users.id")
    reason: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_column=_ts())


class Invite(SQLModel, table=True):
    """An invite link's server-side half: the signed token names it; limits live here."""

    __tablename__ = "invites"

    id: str = Field(primary_key=True, max_length=32)
    program_id: int = Field(foreign_key="programs.id", index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohorts.id")
    role: str = Field(max_length=16)  # participant (needs a cohort) or staff
    real_name: str | None = Field(default=None, max_length=100)  # who it is for, as staff know them
    max_uses: int = Field(default=1)
    uses: int = Field(default=0)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DutyCheckin(SQLModel, table=True):
    """A moderator on duty in a room; it ends at check-out or by itself at expires_at."""

    __tablename__ = "duty_checkins"

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    started_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class HeldMessage(SQLModel, table=True):
    """A message waiting for review: outside the room's history (no seq) until approved."""

    __tablename__ = "held_messages"
    __table_args__ = (Index("uq_held_client", "client_id", "room_id", "author_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    client_id: str = Field(max_length=36)
    data: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # as events.data (a reply)
    status: str = Field(default="held", max_length=16)  # held, approved, rejected
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # once approved
    created_at: datetime = Field(sa_column=_ts())
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class QueueItem(SQLModel, table=True):
    """One thing in a program's moderation queue: a report, a crisis alert, a concern, a held message.

    ``dedupe_key`` makes raising the same thing twice land on one item (e.g.
    ``report:ROOM:SEQ``); a crisis item is also the alert, acknowledged and escalated here.
    Message text is never copied here: the item points at the event or held message.
    """

    __tablename__ = "queue_items"
    __table_args__ = (Index("ix_queue_open", "program_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int | None = Field(default=None, foreign_key="programs.id")
    room_id: int = Field(foreign_key="rooms.id")
    kind: str = Field(max_length=16)  # report, crisis, concern, held
    dedupe_key: str | None = Field(default=None, max_length=80, unique=True)
    target_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    held_id: int | None = Field(default=None, foreign_key="held_messages.id")
    subject_id: int | None = Field(default=None, foreign_key="users.id")  # whose message it is about
    status: str = Field(default="open", max_length=16)  # open, resolved, dismissed
    created_at: datetime = Field(sa_column=_ts())
    acknowledged_by: int | None = Field(default=None, foreign_key="users.id")
    acknowledged_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    escalated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    resolved_by: int | None = Field(default=None, foreign_key="users.id")
    resolved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    resolution: str | None = Field(default=None, max_length=500)


class QueueRaiser(SQLModel, table=True):
    """Who raised a queue item and why (a report's reason); one row per person and item.

    Never shown to the subject: a concern must not tell the writer who raised it.
    """

    __tablename__ = "queue_raisers"

    item_id: int = Field(foreign_key="queue_items.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_ts())


class ModerationWarning(SQLModel, table=True):
    """A moderator's warning to a person in a program; it stops counting at expires_at."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_person", "program_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="programs.id")
    room_id: int | None = Field(default=None, foreign_key="rooms.id")
    user_id: int = Field(foreign_key="users.id")
    by_user_id: int = Field(foreign_key="users.id")
    reason: str = Field(max_length=500)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    # set when this warning tipped the ladder into a timed mute: its length
    mute_minutes: int | None = Field(default=None)


class PersonNote(SQLModel, table=True):
    """A moderator's note on a person, visible to the program's moderators and staff only."""

    __tablename__ = "person_notes"
    __table_args__ = (Index("ix_person_notes_person", "program_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="programs.id")
    user_id: int = Field(foreign_key="users.id")
    author_id: int = Field(foreign_key="users.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class PersonalMute(SQLModel, table=True):
    """A member chose not to see another member's messages; affects only their own view."""

    __tablename__ = "personal_mutes"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    muted_id: int = Field(foreign_key="users.id", primary_key=True)
    created_at: datetime = Field(sa_column=_ts())


class AuditEntry(SQLModel, table=True):
    """Append-only: every moderator and admin action, every staff read of a direct room, every export.

    Written in the same transaction as the action it records; the product has no way to
    change or delete a row (on PostgreSQL a trigger refuses it too). Never holds message text.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_program_at", "program_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts())
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # None: the system
    action: str = Field(max_length=40, index=True)
    program_id: int | None = Field(default=None, foreign_key="programs.id")
    room_id: int | None = Field(default=None, foreign_key="rooms.id")
    target_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    target: str | None = Field(default=None, max_length=100)  # e.g. "seq 12", "queue 4"
    reason: str | None = Field(default=None, max_length=500)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON, no message text


class Disclosure(SQLModel, table=True):
    """The accounting of disclosures (42 CFR Part 2): each time a person's record went to someone else.

    Append-only like the audit trail; the person reads their own. A self-export is not a
    disclosure (the person is not "someone else") and is only audited.
    """

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_subject_at", "subject_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="users.id")  # whose record was disclosed
    program_id: int | None = Field(default=None, foreign_key="programs.id")  # the program that disclosed it
    kind: str = Field(max_length=16)  # staff_export, legal_hold
    recipient: str = Field(max_length=200)
    purpose: str = Field(max_length=500)
    scope: str = Field(max_length=500)  # what was disclosed, e.g. "full record"
    disclosed_by: int | None = Field(default=None, foreign_key="users.id")
    at: datetime = Field(sa_column=_ts())
