"""mini-app sessions and used launch tokens; host apps' slug, webhook and launch key

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("slug", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("webhook_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("launch_algorithm", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("launch_key", sa.Text(), nullable=True))
        batch.create_unique_constraint(batch.f("uq_api_clients_slug"), ["slug"])
    op.create_table(
        "miniapp_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_miniapp_sessions")),
    )
    op.create_index(
        op.f("ix_miniapp_sessions_sender_id"), "miniapp_sessions", ["sender_id"], unique=False
    )
    op.create_index(
        op.f("ix_miniapp_sessions_expires_at"), "miniapp_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "miniapp_used_launch_tokens",
        sa.Column("token_id", sa.String(length=300), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_miniapp_used_launch_tokens")),
    )
    op.create_index(
        op.f("ix_miniapp_used_launch_tokens_expires_at"),
        "miniapp_used_launch_tokens",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_miniapp_used_launch_tokens_expires_at"), table_name="miniapp_used_launch_tokens"
    )
    op.drop_table("miniapp_used_launch_tokens")
    op.drop_index(op.f("ix_miniapp_sessions_expires_at"), table_name="miniapp_sessions")
    op.drop_index(op.f("ix_miniapp_sessions_sender_id"), table_name="miniapp_sessions")
    op.drop_table("miniapp_sessions")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint(batch.f("uq_api_clients_slug"), type_="unique")
        batch.drop_column("launch_key")
        batch.drop_column("launch_algorithm")
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
        batch.drop_column("slug")
