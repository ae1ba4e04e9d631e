"""privacy: the accounting of disclosures (42 CFR Part 2)

Revision ID: 0006_disclosures
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_disclosures"
down_revision = "0005"
branch_labels = None
depends_on = None

DISCLOSURES_GUARD = """
CREATE OR REPLACE FUNCTION disclosures_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'disclosures is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("disclosed_by", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["disclosed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.create_index("ix_disclosures_subject_at", ["subject_id", "at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # append-only, as the audit trail
        op.execute(DISCLOSURES_GUARD)
        op.execute(
            "CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures "
            "FOR EACH ROW EXECUTE FUNCTION disclosures_refuse_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS disclosures_append_only ON disclosures")
        op.execute("DROP FUNCTION IF EXISTS disclosures_refuse_change()")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosures_subject_at")
    op.drop_table("disclosures")
