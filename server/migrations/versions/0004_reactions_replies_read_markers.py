"""reactions (the fold of reaction events), held messages keep a reply's data, read markers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reactions",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("target_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("emoji", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id", "target_seq"], ["events.room_id", "events.seq"], name="fk_reactions_target"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("room_id", "target_seq", "user_id", "emoji"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_read_seq", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("held_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("held_messages", schema=None) as batch_op:
        batch_op.drop_column("data")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("last_read_seq")
    op.drop_table("reactions")
