"""On time or late: how each agency handles its reports over a period.

The city publishes this (civic-feedback-facts.md: Hue-S counted 51.1 % of reports handled on
time in 2022 and 48.9 % late after an approved extension), so the operations centre needs it
per agency. A report counts for the agency holding it now, in the period it was filed:

- resolved on time: resolved by its deadline, never extended;
- resolved after an extension: resolved by a deadline that was extended;
- resolved late: resolved after its deadline;
- open, and of those overdue: still to handle, past the deadline.

Rejected and duplicate reports are counted as received only; a transferred report counts
for the agency that holds it now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.reports.lifecycle import OPEN_STATES, State
from bot.reports.models import Report, ReportUpdate
from bot.reports.overdue import overdue

RESOLVED_STATES = frozenset({State.RESOLVED, State.RATED})


@dataclass
class AgencyStats:
    agency_code: str
    received: int = 0
    resolved_on_time: int = 0
    resolved_after_extension: int = 0
    resolved_late: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share of resolved reports resolved on time without an extension."""
        resolved = self.resolved_on_time + self.resolved_after_extension + self.resolved_late
        return self.resolved_on_time / resolved if resolved else None

    def as_dict(self) -> dict[str, Any]:
        rate = self.on_time_rate
        return {**asdict(self), "on_time_rate": None if rate is None else round(rate, 3)}


def agency_stats(
    session: Session, reports: Select[Report], *, since: datetime, now: datetime
) -> list[AgencyStats]:
    """Figures per agency for the reports of ``reports`` (already scoped) filed since ``since``."""
    period = reports.where(Report.created_at >= since)
    rows = session.scalars(period).all()
    extended = set(
        session.scalars(
            select(ReportUpdate.report_id).where(
                ReportUpdate.report_id.in_(period.with_only_columns(Report.id)),
                ReportUpdate.to_state == State.EXTENDED,
            )
        )
    )
    stats: dict[str, AgencyStats] = {}
    for report in rows:
        code = report.agency_code or "?"
        entry = stats.setdefault(code, AgencyStats(agency_code=code))
        entry.received += 1
        if report.state in OPEN_STATES:
            entry.open += 1
            entry.overdue += overdue(report, now)
        elif report.state in RESOLVED_STATES and report.resolved_at is not None:
            if report.deadline_at is not None and report.resolved_at > report.deadline_at:
                entry.resolved_late += 1
            elif report.id in extended:
                entry.resolved_after_extension += 1
            else:
                entry.resolved_on_time += 1
    return sorted(stats.values(), key=lambda s: (-s.overdue, s.agency_code))
