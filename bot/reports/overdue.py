"""Reports past their deadline: found, flagged to staff, and announced once per deadline.

Deadlines are counted in working time (bot/reports/calendar.py). On-time vs late is what
the city tracks (civic-feedback-facts.md: in 2022 almost half of Hue-S reports were handled
late, after an approved extension), so a late report must not go unnoticed: the outbox
worker (`hue-s outbox run`, started by `make run`) calls `remind_overdue` about once a
minute. Each open report past its deadline gets one "report.overdue" notice (agency,
operations centre, citizens); an extension moves the deadline, and the notice comes again
if the new deadline passes too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.reports.catalog import ReportCatalog, default_catalog
from bot.reports.lifecycle import OPEN_STATES
from bot.reports.models import Report
from bot.reports.notify import notify_overdue

SWEEP_BATCH = 100  # reports announced per sweep; the rest wait for the next one


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """Still open, with a deadline that has passed."""
    return and_(
        Report.state.in_(OPEN_STATES),
        Report.deadline_at.is_not(None),
        Report.deadline_at < now,
    )


def overdue(report: Report, now: datetime) -> bool:
    """`is_overdue` for a report in hand."""
    return (
        report.state in OPEN_STATES and report.deadline_at is not None and report.deadline_at < now
    )


def remind_overdue(
    factory: sessionmaker[Session],
    *,
    catalog: ReportCatalog | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Queue the notice for every overdue report not yet announced for its current deadline.

    The notices and the mark are committed together, so a worker that dies mid-sweep
    announces nothing twice and nothing is skipped. Two workers at once on PostgreSQL skip
    each other's locked rows. Returns the codes announced.
    """
    now = now or utcnow()
    catalog = catalog or default_catalog()
    with factory() as session:
        reports = session.scalars(
            select(Report)
            .where(
                is_overdue(now),
                or_(
                    Report.overdue_notified_at.is_(None),
                    Report.overdue_notified_at < Report.deadline_at,
                ),
            )
            .order_by(Report.deadline_at, Report.id)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        codes = []
        for report in reports:
            notify_overdue(session, report, catalog)
            report.overdue_notified_at = now
            codes.append(str(report.code))
        session.commit()
        return codes
