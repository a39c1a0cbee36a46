"""Procedures from the national catalogue, as imported (one row per national code)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (Index("ix_procedures_updated_at", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(Text)
    levels: Mapped[str] = mapped_column(String(80))  # comma-joined: ministry,province,commune
    ministry: Mapped[str] = mapped_column(String(60))
    applicants: Mapped[str | None] = mapped_column(Text)  # who may apply, as the catalogue says
    url: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(Text)
    source_retrieved: Mapped[str] = mapped_column(String(40))
    # Citizens' names for it (data/catalog/procedure_aliases.yml), with full diacritics.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Accent-free, lower-case name, field and aliases: what full-text search indexes.
    search_text: Mapped[str] = mapped_column(Text)
    # bot.procedures.parsing.ParsedProcedure as JSON.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
