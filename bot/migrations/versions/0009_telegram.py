"""telegram channel: updates handled once, payloads behind inline buttons

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )
    op.create_index(
        op.f("ix_telegram_updates_received_at"), "telegram_updates", ["received_at"], unique=False
    )
    op.create_table(
        "telegram_button_payloads",
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_telegram_button_payloads")),
    )


def downgrade() -> None:
    op.drop_table("telegram_button_payloads")
    op.drop_index(op.f("ix_telegram_updates_received_at"), table_name="telegram_updates")
    op.drop_table("telegram_updates")
