"""reports: when the agency and the operations centre were told a report is past its deadline

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("overdue_notified_at", sa.DateTime(timezone=True)))
    op.create_index("ix_reports_deadline", "reports", ["deadline_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_deadline", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("overdue_notified_at")
