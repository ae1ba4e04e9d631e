"""moderation: a removal from a room lasts until a moderator adds the person back (room_removals)

Revision ID: 0009_room_removals
Revises: 0008_enrollment_invite
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_room_removals"
down_revision = "0008_enrollment_invite"
branch_labels = None
depends_on = None


# Removals made before this revision, from the audit trail: a person's latest `member.remove` from
# a room, when no moderator added them back afterwards (`room.member_add`), they are not in the
# room now (nobody is put out by a migration) and their account was not deleted.
BACKFILL = """
INSERT INTO room_removals (room_id, user_id, by_user_id, created_at)
SELECT a.room_id, a.target_user_id, a.actor_id, a.at
FROM audit_log a JOIN users u ON u.id = a.target_user_id
WHERE a.action = 'member.remove' AND a.room_id IS NOT NULL AND u.deleted_at IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM audit_log later
    WHERE later.room_id = a.room_id AND later.target_user_id = a.target_user_id AND later.id > a.id
      AND later.action IN ('member.remove', 'room.member_add'))
  AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = a.room_id AND m.user_id = a.target_user_id)
"""


def upgrade() -> None:
    op.create_table(
        "room_removals",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("room_id", "user_id"),
    )
    with op.batch_alter_table("room_removals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_removals_user_id"), ["user_id"], unique=False)
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("room_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_removals_user_id"))
    op.drop_table("room_removals")
