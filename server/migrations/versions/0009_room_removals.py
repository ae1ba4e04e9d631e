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


def upgrade() -> None:
    # removals made before this revision were not recorded: they last until the enrollment changes
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


def downgrade() -> None:
    with op.batch_alter_table("room_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_removals_user_id"))
    op.drop_table("room_removals")
