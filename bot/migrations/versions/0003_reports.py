"""civic feedback reports and their updates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = (
    "received", "assigned", "in_progress", "extended", "resolved",
    "rejected", "transferred", "duplicate", "rated", "reopened",
)  # fmt: skip
ACTORS = ("system", "citizen", "agency", "operator")


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("commune", sa.String(length=60), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "state", sa.Enum(*STATES, name="state", native_enum=False, length=20), nullable=False
        ),
        sa.Column("agency_code", sa.String(length=60), nullable=True),
        sa.Column("routing_reason", sa.Text(), nullable=True),
        sa.Column("routing_rule", sa.String(length=20), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reporter_id", sa.String(length=200), nullable=False),
        sa.Column("reporter_channel", sa.String(length=40), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["reports.id"], name=op.f("fk_reports_duplicate_of_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("code", name=op.f("uq_reports_code")),
    )
    op.create_index("ix_reports_open_by_category", "reports", ["category", "commune", "state"])
    op.create_index("ix_reports_reporter", "reports", ["reporter_id", "created_at"])
    op.create_index("ix_reports_agency_state", "reports", ["agency_code", "state"])
    op.create_table(
        "report_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(*STATES, name="state", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column(
            "to_state", sa.Enum(*STATES, name="state", native_enum=False, length=20), nullable=False
        ),
        sa.Column(
            "actor", sa.Enum(*ACTORS, name="actor", native_enum=False, length=20), nullable=False
        ),
        sa.Column("actor_id", sa.String(length=200), nullable=True),
        sa.Column("agency_code", sa.String(length=60), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_updates_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_updates")),
    )
    op.create_index(
        op.f("ix_report_updates_report_id"), "report_updates", ["report_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_report_updates_report_id"), table_name="report_updates")
    op.drop_table("report_updates")
    op.drop_index("ix_reports_agency_state", table_name="reports")
    op.drop_index("ix_reports_reporter", table_name="reports")
    op.drop_index("ix_reports_open_by_category", table_name="reports")
    op.drop_table("reports")
