"""The staff audit log: every sensitive staff action, who did it, on which report, and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class StaffAction(Base):
    __tablename__ = "staff_audit_log"
    __table_args__ = (Index("ix_staff_audit_log_report", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))  # e.g. "reveal_reporter"
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def record_action(
    session: Session,
    *,
    staff_user_id: int,
    action: str,
    report_id: int | None = None,
    reason: str | None = None,
) -> StaffAction:
    """Add one entry to the audit log (committed with the caller's unit of work)."""
    entry = StaffAction(
        staff_user_id=staff_user_id, action=action, report_id=report_id, reason=reason
    )
    session.add(entry)
    return entry
