"""Report intake from chat: one report per confirmation, followers of a report

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(length=100), nullable=True))
        batch.create_unique_constraint(op.f("uq_reports_submission_key"), ["submission_key"])
    op.create_table(
        "report_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("follower_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_followers_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_followers")),
        sa.UniqueConstraint("report_id", "follower_id", name=op.f("uq_report_followers_report_id")),
    )
    op.create_index(op.f("ix_report_followers_follower_id"), "report_followers", ["follower_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_followers_follower_id"), table_name="report_followers")
    op.drop_table("report_followers")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint(op.f("uq_reports_submission_key"), type_="unique")
        batch.drop_column("submission_key")
