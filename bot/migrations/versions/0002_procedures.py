"""procedures catalogue with full-text search; applications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

SQLite: an FTS5 table over procedures.search_text kept in sync by triggers.
PostgreSQL: a stored tsvector column (to_tsvector('simple', search_text)) with a GIN index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("levels", sa.String(length=80), nullable=False),
        sa.Column("ministry", sa.String(length=60), nullable=False),
        sa.Column("applicants", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_retrieved", sa.String(length=40), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures")),
        sa.UniqueConstraint("code", name=op.f("uq_procedures_code")),
    )
    # Search checks the catalogue's version (count, latest update) on every query.
    op.create_index("ix_procedures_updated_at", "procedures", ["updated_at"])
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=True),
        sa.Column("procedure_name", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("office", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("code", name=op.f("uq_applications_code")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        # A stored tsvector: ranking reads it instead of re-parsing every matching row.
        op.execute(
            "ALTER TABLE procedures ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
        )
        op.execute("CREATE INDEX ix_procedures_search ON procedures USING gin (search_vector)")


SQLITE_FTS = [
    "CREATE VIRTUAL TABLE procedures_fts USING fts5("
    "search_text, content='procedures', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER procedures_fts_insert AFTER INSERT ON procedures BEGIN "
    "INSERT INTO procedures_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER procedures_fts_delete AFTER DELETE ON procedures BEGIN "
    "INSERT INTO procedures_fts(procedures_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER procedures_fts_update AFTER UPDATE ON procedures BEGIN "
    "INSERT INTO procedures_fts(procedures_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO procedures_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS procedures_fts_{name}")
        op.execute("DROP TABLE IF EXISTS procedures_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_procedures_search")
    op.drop_table("applications")
    op.drop_table("procedures")
