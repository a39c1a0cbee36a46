"""What each staff member may see of a report: agencies never see who reported it, and the
operations centre sees a masked handle (bot/conversations/citizens.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.conversations.citizens import reporter_handle
from bot.db import utcnow
from bot.errors import ApiError
from bot.reports.lifecycle import STATE_LABELS
from bot.reports.models import Report
from bot.reports.overdue import overdue
from bot.reports.service import report_by_code
from bot.staff.models import Role
from bot.staff.security import StaffIdentity


def visible_reports(identity: StaffIdentity) -> Select[Report]:
    """Agency staff: their agency's reports; operators and admins: all."""
    query = select(Report).where(Report.code.is_not(None))
    if identity.role is Role.AGENCY_STAFF:
        query = query.where(Report.agency_code == identity.agency_code)
    return query


def can_see(identity: StaffIdentity, report: Report) -> bool:
    return identity.role is not Role.AGENCY_STAFF or report.agency_code == identity.agency_code


def visible_report(session: Session, identity: StaffIdentity, code: str) -> Report:
    """The report with this code if this staff member may see it; 404 otherwise (same answer)."""
    report = report_by_code(session, code)
    if report is None or not can_see(identity, report):
        raise ApiError(404, "report_not_found", f"Không tìm thấy phản ánh {code.strip()}.")
    return report


def report_view(report: Report, identity: StaffIdentity) -> dict[str, Any]:
    """The report as this staff member may see it (the reporter only for the operations centre)."""
    view: dict[str, Any] = {
        "code": report.code,
        "description": report.description,
        "category": report.category,
        "urgency": report.urgency,
        "commune": report.commune,
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "state": report.state.value,
        "state_label": STATE_LABELS[report.state],
        "agency_code": report.agency_code,
        "routing_reason": report.routing_reason,
        "deadline_at": report.deadline_at.isoformat() if report.deadline_at else None,
        "overdue": overdue(report, utcnow()),
        "created_at": report.created_at.isoformat(),
    }
    if identity.role is Role.OPERATOR:
        # A display handle, never the sender id: some sender ids are credentials (the web
        # chat's) and others personal data; the contact itself is revealed on request only.
        view["reporter"] = {
            "handle": reporter_handle(report.reporter_id),
            "channel": report.reporter_channel,
        }
    return view
