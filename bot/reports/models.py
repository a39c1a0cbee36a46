"""Civic feedback reports and every change made to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime, str_enum, utcnow
from bot.reports.lifecycle import Actor, State


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_open_by_category", "category", "commune", "state"),
        Index("ix_reports_reporter", "reporter_id", "created_at"),
        Index("ix_reports_agency_state", "agency_code", "state"),
        Index("ix_reports_deadline", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # PA-2026-000123: set from the id in the transaction that creates the report.
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    commune: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    state: Mapped[State] = mapped_column(str_enum(State), default=State.RECEIVED)
    agency_code: Mapped[str | None] = mapped_column(String(60))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    routing_rule: Mapped[str | None] = mapped_column(String(20))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the agency and the operations centre were last told the report is past its
    # deadline (bot/reports/overdue.py); before the deadline (it was extended): not yet told.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who reported: the gateway's sender id ("web:…", "telegram:…"). Never shown to agencies.
    reporter_id: Mapped[str] = mapped_column(String(200))
    reporter_channel: Mapped[str] = mapped_column(String(40))
    # Set by the chat when the citizen confirms: the same confirmation sent twice (a retry,
    # a double tap, a restarted action server) finds this report instead of filing another.
    submission_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    updates: Mapped[list[ReportUpdate]] = relationship(
        back_populates="report", order_by="ReportUpdate.id", cascade="all, delete-orphan"
    )


class ReportUpdate(Base):
    """One change of state (or message) on a report: who, when, what, and the reply."""

    __tablename__ = "report_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    from_state: Mapped[State | None] = mapped_column(str_enum(State))
    to_state: Mapped[State] = mapped_column(str_enum(State))
    actor: Mapped[Actor] = mapped_column(str_enum(Actor))
    actor_id: Mapped[str | None] = mapped_column(String(200))
    agency_code: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str | None] = mapped_column(Text)  # shown to the citizen
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[Report] = relationship(back_populates="updates")


class ReportFollower(Base):
    """A citizen who chose to follow an existing report instead of filing the same one again.

    Followers are told of state changes like the reporter, and may ask for its status.
    """

    __tablename__ = "report_followers"
    __table_args__ = (UniqueConstraint("report_id", "follower_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    follower_id: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DuplicateOffer(Base):
    """An open report the chat offered a citizen to follow instead of filing the same again.

    Following needs one: a button payload naming a report code is a request, never proof that
    the report was offered (codes are sequential, so every report could otherwise be walked).
    """

    __tablename__ = "report_duplicate_offers"
    __table_args__ = (UniqueConstraint("report_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    citizen_id: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
