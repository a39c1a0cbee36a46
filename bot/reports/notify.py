"""Who hears about a report, and what they read: the agency that must act, and the citizen.

Notices are added to the outbox in the caller's transaction, so a report and the notices
about it are stored together or not at all; the outbox worker delivers them with retries.

- The agency that holds a report gets "report.assigned" on every contact it has configured
  (signed webhook, e-mail, its Telegram group). The reporter's identity is never included.
- The reporter, and citizens who follow the report, get "report.updated" through their own
  channel when its state changes: Telegram citizens get a Telegram message; citizens of a host
  app get a signed notice on the host's webhook (the host shows it in its app); guest web chat
  sessions read their reports' state in the chat and the mini-app's report list (an anonymous
  web page has no push channel).
- When a report passes its deadline unresolved, "report.overdue" goes once per deadline to
  the agency, the operations centre and the citizens (`notify_overdue`, sent by the sweep in
  bot/reports/overdue.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outbox.models import Channel
from bot.outbox.worker import enqueue
from bot.reports.calendar import LOCAL
from bot.reports.catalog import Agency, ReportCatalog
from bot.reports.lifecycle import STATE_LABELS, State
from bot.reports.models import Report, ReportFollower


def deadline_label(report: Report) -> str | None:
    if report.deadline_at is None:
        return None
    return report.deadline_at.astimezone(LOCAL).strftime("%H:%M ngày %d/%m/%Y")


def notify_agency(session: Session, report: Report, catalog: ReportCatalog) -> int:
    """Queue the new-report notice on every contact of the agency now holding the report."""
    if report.agency_code is None:
        return 0
    agency = catalog.agencies[report.agency_code]
    category = catalog.categories.get(report.category or "")
    lines = [
        f"Phản ánh {report.code} cần xử lý"
        + (" (KHẨN CẤP)" if report.urgency == "urgent" else "")
        + ".",
        f"Lĩnh vực: {category.name if category else 'chưa xác định'}.",
        f"Nội dung: {report.description}",
        f"Địa điểm: {report.address or report.commune or 'chưa rõ'}.",
    ]
    if report.latitude is not None and report.longitude is not None:
        lines.append(f"Tọa độ: {report.latitude:.6f}, {report.longitude:.6f}.")
    due = deadline_label(report)
    if due:
        lines.append(f"Hạn xử lý: {due}.")
    body: dict[str, Any] = {
        "event": "report.assigned",
        "code": report.code,
        "agency": agency.code,
        "category": report.category,
        "urgency": report.urgency,
        "commune": report.commune,
        "deadline_at": report.deadline_at.isoformat() if report.deadline_at else None,
        "text": "\n".join(lines),
    }
    return _to_agency(session, agency, body, f"Phản ánh mới {report.code}", report)


def _to_agency(
    session: Session, agency: Agency, body: dict[str, Any], subject: str, report: Report
) -> int:
    """Queue ``body`` on every contact the agency has configured; returns how many."""
    targets = (
        (Channel.WEBHOOK, agency.webhook_url),
        (Channel.EMAIL, agency.email),
        (Channel.TELEGRAM, agency.telegram_chat_id),
    )
    queued = 0
    for channel, target in targets:
        if target:
            enqueue(session, channel, target, body, subject=subject, report_id=report.id)
            queued += 1
    return queued


def notify_overdue(session: Session, report: Report, catalog: ReportCatalog) -> None:
    """Queue the past-deadline notice: the agency holding the report, the operations centre
    (which follows up on late reports), and the reporter and followers."""
    if report.agency_code is None:
        return
    agency = catalog.agencies[report.agency_code]
    due = deadline_label(report)
    lines = [
        f"Phản ánh {report.code} đã quá hạn xử lý (hạn {due}).",
        f"Đơn vị đang xử lý: {agency.name}.",
        f"Trạng thái: {STATE_LABELS[report.state]}.",
        f"Nội dung: {report.description}",
        "Đề nghị đơn vị xử lý, hoặc gia hạn kèm lý do.",
    ]
    body: dict[str, Any] = {
        "event": "report.overdue",
        "code": report.code,
        "agency": agency.code,
        "state": report.state.value,
        "deadline_at": report.deadline_at.isoformat() if report.deadline_at else None,
        "text": "\n".join(lines),
    }
    subject = f"Phản ánh quá hạn {report.code}"
    reminded = []  # only those that can actually be reached are named to the citizen
    for receiver in dict.fromkeys([agency, *catalog.operations_centres()]):
        if _to_agency(session, receiver, body, subject, report):
            reminded.append(receiver.name)
    text = f"Phản ánh {report.code} của bạn đã quá hạn xử lý (hạn {due})."
    if reminded:
        text += f" Hệ thống đã nhắc {' và '.join(reminded)}."
    citizens = {
        "event": "report.overdue",
        "code": report.code,
        "state": report.state.value,
        "state_label": STATE_LABELS[report.state],
        "text": text + " Bạn sẽ được báo ngay khi có kết quả.",
    }
    _to_citizens(session, report, citizens)


def citizen_target(sender_id: str) -> tuple[Channel, str] | None:
    """Where a citizen can be reached outside the chat, from their gateway sender id."""
    channel, _, ident = sender_id.partition(":")
    if channel == "telegram" and ident:
        return Channel.TELEGRAM, ident
    if channel == "host" and ":" in ident:  # host:<slug>:<citizen id> → "<slug>:<citizen id>"
        return Channel.HOST, ident
    return None


def citizen_text(report: Report) -> str:
    """What the reporter reads when their report changes state."""
    label = STATE_LABELS[report.state]
    lines = [f"Phản ánh {report.code} của bạn: {label}."]
    latest = report.updates[-1] if report.updates else None
    if latest is not None and latest.message:
        lines.append(f"Trả lời của đơn vị xử lý: {latest.message}")
    if report.state is State.EXTENDED:
        due = deadline_label(report)
        if due:
            lines.append(f"Hạn xử lý mới: {due}.")
    if report.state is State.RESOLVED:
        lines.append(
            'Bạn chấm mức độ hài lòng từ 1 đến 5 sao (ví dụ nhắn "5 sao"), '
            'hoặc nhắn "chưa xử lý xong" để mở lại phản ánh.'
        )
    return "\n".join(lines)


def notify_citizens(session: Session, report: Report) -> int:
    """Queue the state-change notice for the reporter and every follower who can be reached."""
    body = {
        "event": "report.updated",
        "code": report.code,
        "state": report.state.value,
        "state_label": STATE_LABELS[report.state],
        "text": citizen_text(report),
    }
    return _to_citizens(session, report, body)


def _to_citizens(session: Session, report: Report, body: dict[str, Any]) -> int:
    """Queue ``body`` for the reporter and every follower who can be reached outside the chat."""
    followers = session.scalars(
        select(ReportFollower.follower_id).where(ReportFollower.report_id == report.id)
    ).all()
    queued = 0
    for sender_id in dict.fromkeys([report.reporter_id, *followers]):
        target = citizen_target(sender_id)
        if target is not None:
            enqueue(session, target[0], target[1], body, report_id=report.id)
            queued += 1
    return queued
