"""reports: duplicates offered to a citizen; staff: the audit log of sensitive actions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_duplicate_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_duplicate_offers_report_id_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_duplicate_offers")),
        sa.UniqueConstraint(
            "report_id", "citizen_id", name=op.f("uq_report_duplicate_offers_report_id")
        ),
    )
    op.create_index(
        "ix_report_duplicate_offers_citizen_id", "report_duplicate_offers", ["citizen_id"]
    )
    op.create_index(
        "ix_report_duplicate_offers_expires_at", "report_duplicate_offers", ["expires_at"]
    )
    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("report_id", sa.Integer()),
        sa.Column("reason", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_audit_log_staff_user_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_staff_audit_log_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit_log")),
    )
    op.create_index("ix_staff_audit_log_staff_user_id", "staff_audit_log", ["staff_user_id"])
    op.create_index("ix_staff_audit_log_report", "staff_audit_log", ["report_id", "created_at"])


def downgrade() -> None:
    op.drop_table("staff_audit_log")
    op.drop_table("report_duplicate_offers")
