"""Submitting reports, finding duplicates, and changing a report's state — with a record.

Every function here works in the caller's session and commits what it did: a report is
committed (and has its tracking code) before anyone is told the code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import ReportCatalog, Urgency, default_catalog
from bot.reports.lifecycle import OPEN_STATES, Actor, State, TransitionError, check_transition
from bot.reports.models import DuplicateOffer, Report, ReportFollower, ReportUpdate
from bot.reports.notify import notify_agency, notify_citizens
from vitext import fold_words

CODE_PREFIX = "PA"
DUPLICATE_RADIUS_M = 50.0  # a report this close, same category and still open, is the same
DUPLICATE_WINDOW = timedelta(days=30)
MIN_DESCRIPTION_CHARS = 5
MAX_DESCRIPTION_CHARS = 2000


class ReportError(ValueError):
    """Bad input for a report; ``message`` is the Vietnamese sentence to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ReportDraft:
    description: str
    reporter_id: str
    channel: str
    category: str | None = None  # inferred from the description when not given
    urgency: Urgency | None = None  # inferred when not given
    commune: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # The chat's key for one confirmation: submitting it again returns the same report.
    submission_key: str | None = None


def tracking_code(report_id: int, when: datetime) -> str:
    return f"{CODE_PREFIX}-{when.year}-{report_id:06d}"


def _validate(draft: ReportDraft, catalog: ReportCatalog) -> None:
    text = draft.description.strip()
    if len(text) < MIN_DESCRIPTION_CHARS:
        raise ReportError("description_too_short", "Bạn mô tả thêm một chút về sự việc nhé.")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise ReportError(
            "description_too_long",
            f"Nội dung phản ánh dài quá; bạn rút gọn dưới {MAX_DESCRIPTION_CHARS} ký tự nhé.",
        )
    if draft.category is not None and draft.category not in catalog.categories:
        raise ReportError("unknown_category", "Lĩnh vực phản ánh không hợp lệ.")
    if (draft.latitude is None) != (draft.longitude is None):
        raise ReportError("invalid_location", "Vị trí gửi lên không hợp lệ.")
    if draft.latitude is not None and draft.longitude is not None:
        if not (-90 <= draft.latitude <= 90 and -180 <= draft.longitude <= 180):
            raise ReportError("invalid_location", "Vị trí gửi lên không hợp lệ.")


def submit_report(
    session: Session,
    draft: ReportDraft,
    catalog: ReportCatalog,
    calendar: WorkingCalendar,
    now: datetime | None = None,
) -> Report:
    """Store a new report, route it, set its deadline, queue the agency's notice, and commit.

    Returns the report with its code. A draft whose ``submission_key`` was already submitted
    returns that report and changes nothing (a confirmation sent twice files one report).
    """
    _validate(draft, catalog)
    if draft.submission_key:
        existing = _by_submission_key(session, draft.submission_key)
        if existing is not None:
            return existing
    now = now or utcnow()
    category = draft.category
    if category is None:
        ranked = catalog.classify(draft.description)
        category = ranked[0][0].code if ranked else None
    chosen = catalog.categories.get(category) if category else None
    urgency: Urgency = draft.urgency or catalog.urgency(draft.description, chosen)
    report = Report(
        description=draft.description.strip(),
        category=category,
        urgency=urgency,
        commune=draft.commune,
        address=(draft.address or "").strip() or None,
        latitude=draft.latitude,
        longitude=draft.longitude,
        state=State.RECEIVED,
        reporter_id=draft.reporter_id,
        reporter_channel=draft.channel,
        submission_key=draft.submission_key,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    try:
        session.flush()
    except IntegrityError:
        # The same confirmation, submitted at the same moment by another process, won.
        session.rollback()
        existing = _by_submission_key(session, draft.submission_key or "")
        if existing is None:
            raise
        return existing
    report.code = tracking_code(report.id, now)
    report.updates.append(
        ReportUpdate(
            from_state=None,
            to_state=State.RECEIVED,
            actor=Actor.CITIZEN,
            actor_id=draft.reporter_id,
            created_at=now,
        )
    )
    route = catalog.route(category, draft.commune)
    report.routing_reason = route.reason
    report.routing_rule = route.rule
    _apply(report, State.ASSIGNED, Actor.SYSTEM, None, now, agency=route.agency.code)
    if category is not None:
        report.deadline_at = catalog.deadline(category, urgency, now, calendar)
    notify_agency(session, report, catalog)
    session.commit()
    return report


def report_by_code(session: Session, code: str) -> Report | None:
    """The report with this tracking code (as typed: spaces and case do not matter)."""
    return session.scalars(select(Report).where(Report.code == code.strip().upper())).first()


def _by_submission_key(session: Session, key: str) -> Report | None:
    return session.scalars(select(Report).where(Report.submission_key == key)).first()


OFFER_HOURS = 24  # how long a duplicate shown at a summary may be followed


def offer_duplicates(
    session: Session, reports: list[Report], citizen_id: str, now: datetime | None = None
) -> None:
    """Remember that the chat offered ``citizen_id`` to follow these reports (for a day)."""
    now = now or utcnow()
    expires = now + timedelta(hours=OFFER_HOURS)
    offered = set(
        session.scalars(
            select(DuplicateOffer.report_id).where(
                DuplicateOffer.citizen_id == citizen_id,
                DuplicateOffer.report_id.in_([r.id for r in reports]),
            )
        )
    )
    for report in reports:
        if report.id in offered:
            session.execute(
                update(DuplicateOffer)
                .where(DuplicateOffer.citizen_id == citizen_id)
                .where(DuplicateOffer.report_id == report.id)
                .values(expires_at=expires)
            )
        else:
            session.add(
                DuplicateOffer(
                    report_id=report.id, citizen_id=citizen_id, created_at=now, expires_at=expires
                )
            )
    try:
        session.commit()
    except IntegrityError:  # the same offer recorded at the same moment by another request
        session.rollback()


def was_offered(
    session: Session, report: Report, citizen_id: str, now: datetime | None = None
) -> bool:
    """Whether the chat offered this citizen to follow ``report``, and the offer still holds."""
    return (
        session.scalars(
            select(DuplicateOffer.id).where(
                DuplicateOffer.report_id == report.id,
                DuplicateOffer.citizen_id == citizen_id,
                DuplicateOffer.expires_at > (now or utcnow()),
            )
        ).first()
        is not None
    )


def follow_report(session: Session, report: Report, follower_id: str, channel: str) -> bool:
    """Let a citizen follow an existing report (told of its changes); False if already."""
    if follower_id == report.reporter_id:
        return False
    exists = session.scalars(
        select(ReportFollower).where(
            ReportFollower.report_id == report.id, ReportFollower.follower_id == follower_id
        )
    ).first()
    if exists is not None:
        return False
    session.add(ReportFollower(report_id=report.id, follower_id=follower_id, channel=channel))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def citizen_can_see(session: Session, report: Report, sender_id: str) -> bool:
    """Only the reporter and the citizens following a report may read it in the chat."""
    if report.reporter_id == sender_id:
        return True
    follower = session.scalars(
        select(ReportFollower.id).where(
            ReportFollower.report_id == report.id, ReportFollower.follower_id == sender_id
        )
    ).first()
    return follower is not None


def citizen_reports(session: Session, sender_id: str, limit: int = 5) -> list[Report]:
    """The reports a citizen filed or follows, most recently changed first."""
    followed = select(ReportFollower.report_id).where(ReportFollower.follower_id == sender_id)
    return list(
        session.scalars(
            select(Report)
            .where((Report.reporter_id == sender_id) | Report.id.in_(followed))
            .where(Report.code.is_not(None))
            .order_by(Report.updated_at.desc(), Report.id.desc())
            .limit(limit)
        )
    )


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _address_key(address: str | None) -> str:
    return fold_words(address or "")


def find_duplicates(
    session: Session, draft: ReportDraft, category: str | None, now: datetime | None = None
) -> list[Report]:
    """Open reports of the same category nearby: within the radius, or same commune and address."""
    if category is None:
        return []
    since = (now or utcnow()) - DUPLICATE_WINDOW
    candidates = session.scalars(
        select(Report)
        .where(
            Report.category == category,
            Report.state.in_(OPEN_STATES),
            Report.created_at >= since,
        )
        .order_by(Report.created_at)
    )
    found = []
    key = _address_key(draft.address)
    for report in candidates:
        if (
            draft.latitude is not None
            and draft.longitude is not None
            and report.latitude is not None
            and report.longitude is not None
            and _distance_m(draft.latitude, draft.longitude, report.latitude, report.longitude)
            <= DUPLICATE_RADIUS_M
        ):
            found.append(report)
        elif key and draft.commune and report.commune == draft.commune:
            if _address_key(report.address) == key:
                found.append(report)
    return found


def _apply(
    report: Report,
    to: State,
    actor: Actor,
    actor_id: str | None,
    now: datetime,
    *,
    message: str | None = None,
    agency: str | None = None,
) -> None:
    report.updates.append(
        ReportUpdate(
            from_state=report.state,
            to_state=to,
            actor=actor,
            actor_id=actor_id,
            agency_code=agency or report.agency_code,
            message=message,
            created_at=now,
        )
    )
    report.state = to
    report.updated_at = now
    if agency:
        report.agency_code = agency


def change_state(
    session: Session,
    report: Report,
    to: State,
    actor: Actor,
    *,
    actor_id: str | None = None,
    message: str | None = None,
    agency: str | None = None,
    duplicate_of: Report | None = None,
    extension_days: int | None = None,
    rating: int | None = None,
    calendar: WorkingCalendar | None = None,
    catalog: ReportCatalog | None = None,
    now: datetime | None = None,
) -> Report:
    """Move a report to ``to`` if the lifecycle allows it, record who did it, and commit.

    With the move, the outbox gets the citizens' notice (a change they did not make) and,
    when the report reaches a new agency or is reopened, that agency's notice.
    """
    now = now or utcnow()
    check_transition(
        report.state,
        to,
        actor,
        reason=message,
        agency=agency,
        duplicate_of=duplicate_of.code if duplicate_of else None,
    )
    if to is State.EXTENDED:
        if not extension_days or extension_days < 1 or calendar is None:
            raise TransitionError("extension_days_required", "Vui lòng nêu số ngày gia hạn.")
        base = report.deadline_at or now
        report.deadline_at = calendar.add_working_days(max(base, now), extension_days)
    if to is State.RATED:
        if rating is None or not 1 <= rating <= 5:
            raise TransitionError("invalid_rating", "Bạn chấm từ 1 đến 5 sao nhé.")
        report.rating = rating
    if to is State.DUPLICATE and duplicate_of is not None:
        if duplicate_of.id == report.id:
            raise TransitionError("invalid_duplicate", "Phản ánh không thể trùng với chính nó.")
        report.duplicate_of_id = duplicate_of.id
    if to is State.RESOLVED:
        report.resolved_at = now
    if to is State.REOPENED:
        report.resolved_at = None
    _apply(report, to, actor, actor_id, now, message=message, agency=agency)
    if to is State.TRANSFERRED and agency:
        # The receiving agency holds it from now on.
        _apply(report, State.ASSIGNED, Actor.SYSTEM, None, now, agency=agency)
    if actor is not Actor.CITIZEN:
        notify_citizens(session, report)
    if (to is State.TRANSFERRED and agency) or to is State.REOPENED:
        notify_agency(session, report, catalog or default_catalog())
    session.commit()
    return report
