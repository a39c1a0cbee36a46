"""Applications (hồ sơ) filed at a one-stop shop, as the built-in adapter stores them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    procedure_code: Mapped[str | None] = mapped_column(String(32))
    procedure_name: Mapped[str] = mapped_column(Text)
    # received / processing / additional_documents_required / done / returned / rejected
    state: Mapped[str] = mapped_column(String(40))
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    office: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Seeded demonstration data, never a real citizen's file.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
