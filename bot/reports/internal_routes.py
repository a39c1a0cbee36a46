"""The internal report API the action server calls on a citizen's behalf (/api/v1/internal).

Only the action server holds the key (``INTERNAL_API_TOKEN``, sent as a bearer token). The
citizen is named by their gateway sender id ("web:…", "telegram:…"), which Rasa passes to
the actions; a citizen reads only the reports they filed or follow. Every error is a
Vietnamese sentence the chat can show as it is.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.deps import SessionFactoryDep, SettingsDep
from bot.errors import ApiError
from bot.media.storage import attach_photos
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import ReportCatalog, default_catalog
from bot.reports.lifecycle import OPEN_STATES, STATE_LABELS, Actor, State, TransitionError
from bot.reports.models import Report
from bot.reports.notify import deadline_label
from bot.reports.overdue import overdue
from bot.reports.places import commune_in, place_in
from bot.reports.service import (
    ReportDraft,
    ReportError,
    change_state,
    citizen_can_see,
    citizen_reports,
    find_duplicates,
    follow_report,
    offer_duplicates,
    report_by_code,
    submit_report,
    was_offered,
)
from vitext import normalize_message

router = APIRouter(prefix="/api/v1/internal", tags=["internal"], include_in_schema=False)

SENDER_PATTERN = r"^[a-z0-9_]{1,20}:[A-Za-z0-9_.:@-]{1,180}$"
MAX_CATEGORY_CHOICES = 3


def _authorised(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    expected = f"Bearer {settings.internal_api_token.get_secret_value()}"
    if not authorization or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise ApiError(401, "unauthorised", "Thiếu hoặc sai khóa truy cập API nội bộ.")


router.dependencies.append(Depends(_authorised))


class Place(BaseModel):
    address: str | None = Field(default=None, max_length=500)
    commune: str | None = Field(default=None, max_length=80)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class PreviewIn(Place):
    # Empty when only the place is being resolved (the commune of an address).
    description: str = Field(default="", max_length=5000)
    category: str | None = Field(default=None, max_length=40)
    # The citizen the summary is shown to: the duplicates found are offered to them to follow.
    citizen: str | None = Field(default=None, pattern=SENDER_PATTERN)


class SubmitIn(Place):
    submission_key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    citizen: str = Field(pattern=SENDER_PATTERN)
    channel: str = Field(max_length=40)
    description: str = Field(max_length=5000)
    category: str | None = Field(default=None, max_length=40)
    urgency: Literal["normal", "urgent"] | None = None
    photos: list[str] = Field(default=[], max_length=10)


class CitizenIn(BaseModel):
    citizen: str = Field(pattern=SENDER_PATTERN)
    channel: str = Field(default="web", max_length=40)


class RatingIn(CitizenIn):
    rating: int = Field(ge=1, le=5)


class ReopenIn(CitizenIn):
    reason: str = Field(min_length=1, max_length=2000)


def _commune(place: Place) -> str | None:
    """The current commune named by the place (current or former name), if any."""
    return commune_in(place.commune) or commune_in(place.address)


def citizen_report_list(
    session: Session, sender_id: str, limit: int, catalog: ReportCatalog | None = None
) -> dict[str, Any]:
    """``{"reports": [...]}``: a citizen's reports as they may read them, newest change first."""
    catalog = catalog or default_catalog()
    return {
        "reports": [report_summary(r, catalog) for r in citizen_reports(session, sender_id, limit)]
    }


def report_summary(report: Report, catalog: ReportCatalog) -> dict[str, Any]:
    """What the citizen may read about a report: never the staff's names or other citizens."""
    category = catalog.categories.get(report.category or "")
    agency = catalog.agencies.get(report.agency_code or "")
    replies = [u for u in report.updates if u.message and u.actor is not Actor.CITIZEN]
    latest = replies[-1] if replies else None
    return {
        "code": report.code,
        "state": report.state.value,
        "state_label": STATE_LABELS[report.state],
        "open": report.state in OPEN_STATES,
        "category": report.category,
        "category_name": category.name if category else None,
        "agency_name": agency.name if agency else None,
        "urgency": report.urgency,
        "description": report.description,
        "address": report.address,
        "commune": report.commune,
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
        "deadline_at": report.deadline_at.isoformat() if report.deadline_at else None,
        "deadline_label": deadline_label(report),
        "overdue": overdue(report, utcnow()),
        "latest_reply": latest.message if latest else None,
        "rating": report.rating,
    }


@router.post("/reports/preview", summary="Category, urgency, commune and duplicates of a draft")
def preview(body: PreviewIn, factory: SessionFactoryDep) -> dict[str, Any]:
    catalog = default_catalog()
    text = normalize_message(body.description, max_chars=5000)
    ranked = catalog.classify(text)
    chosen = catalog.categories.get(body.category or "") or (ranked[0][0] if ranked else None)
    # Sure when one category clearly leads: the only match, or ahead of the next one.
    confident = bool(ranked) and (len(ranked) == 1 or ranked[0][1] > ranked[1][1])
    # Where, if the citizen already said it in the description: never asked for again.
    place = place_in(text)
    commune = _commune(body) or commune_in(place) or commune_in(text)
    duplicates: list[dict[str, Any]] = []
    if chosen is not None and (body.address or body.latitude is not None):
        draft = ReportDraft(
            description=text,
            reporter_id="preview:-",
            channel="preview",
            commune=commune,
            address=body.address,
            latitude=body.latitude,
            longitude=body.longitude,
        )
        with factory() as session:
            found = find_duplicates(session, draft, chosen.code)[:MAX_CATEGORY_CHOICES]
            duplicates = [report_summary(r, catalog) for r in found]
            if body.citizen is not None and found:
                offer_duplicates(session, found, body.citizen)
    return {
        # score: keyword words matched (0: the model's guess without a keyword)
        "categories": [
            {"code": c.code, "name": c.name, "score": score}
            for c, score in ranked[:MAX_CATEGORY_CHOICES]
        ],
        "confident": confident,
        "urgency": catalog.urgency(text, chosen),
        "commune": commune,
        "place": place,
        "duplicates": duplicates,
    }


@router.get("/reports/categories", summary="Every category, for the citizen to choose from")
def categories() -> dict[str, Any]:
    catalog = default_catalog()
    return {"categories": [{"code": c.code, "name": c.name} for c in catalog.categories.values()]}


@router.post("/reports", status_code=201, summary="File a report the citizen confirmed")
def submit(body: SubmitIn, factory: SessionFactoryDep) -> dict[str, Any]:
    catalog = default_catalog()
    if body.category is not None and body.category not in catalog.categories:
        raise ApiError(422, "unknown_category", "Lĩnh vực phản ánh không hợp lệ.")
    now = utcnow()
    draft = ReportDraft(
        description=normalize_message(body.description, max_chars=5000),
        reporter_id=body.citizen,
        channel=body.channel,
        category=body.category,
        urgency=body.urgency,
        commune=_commune(body),
        address=normalize_message(body.address or "", max_chars=500) or None,
        latitude=body.latitude,
        longitude=body.longitude,
        submission_key=body.submission_key,
    )
    calendar = WorkingCalendar.load([now.year, now.year + 1])
    with factory() as session:
        try:
            report = submit_report(session, draft, catalog, calendar, now=now)
        except ReportError as exc:
            raise ApiError(422, exc.code, exc.message) from exc
        if report.reporter_id != body.citizen:
            # A submission key is the chat's own; another citizen cannot reuse one.
            raise ApiError(409, "submission_key_taken", "Mã gửi phản ánh đã được dùng.")
        if body.photos:
            # Only the citizen's own uploads that are on no other report are attached.
            attach_photos(session, body.photos, report.id, body.citizen)
        return report_summary(report, catalog)


def _citizen_report(session: Session, code: str, citizen: str) -> Report:
    report = report_by_code(session, code)
    # The same answer whether the report does not exist or is someone else's.
    if report is None or not citizen_can_see(session, report, citizen):
        raise ApiError(
            404,
            "report_not_found",
            f"Mình không tìm thấy phản ánh {code.strip().upper()} trong các phản ánh bạn đã gửi "
            "hoặc đang theo dõi.",
        )
    return report


@router.get("/reports", summary="The reports a citizen filed or follows, latest first")
def list_citizen_reports(
    factory: SessionFactoryDep,
    citizen: Annotated[str, Query(pattern=SENDER_PATTERN)],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    catalog = default_catalog()
    with factory() as session:
        return {
            "reports": [
                report_summary(r, catalog) for r in citizen_reports(session, citizen, limit)
            ]
        }


@router.get("/reports/{code}", summary="One report, for its reporter or a follower")
def get_citizen_report(
    code: str, factory: SessionFactoryDep, citizen: Annotated[str, Query(pattern=SENDER_PATTERN)]
) -> dict[str, Any]:
    with factory() as session:
        return report_summary(_citizen_report(session, code, citizen), default_catalog())


@router.post("/reports/{code}/follow", summary="Follow an open report instead of filing it again")
def follow(code: str, body: CitizenIn, factory: SessionFactoryDep) -> dict[str, Any]:
    catalog = default_catalog()
    with factory() as session:
        report = report_by_code(session, code)
        # Only a report the chat offered this citizen (a payload naming a code is a request,
        # never proof); the same answer whether it does not exist or was not offered.
        if report is None or not was_offered(session, report, body.citizen):
            raise ApiError(404, "report_not_found", f"Không có phản ánh {code.strip().upper()}.")
        # Only open reports can be followed (the duplicate offer names only open ones).
        if report.state not in OPEN_STATES:
            raise ApiError(
                409, "report_closed", f"Phản ánh {report.code} đã kết thúc, không theo dõi được."
            )
        follow_report(session, report, body.citizen, body.channel)
        return report_summary(report, catalog)


def _citizen_move(
    factory: sessionmaker[Session],
    code: str,
    citizen: str,
    to: State,
    *,
    message: str | None,
    rating: int | None,
) -> dict[str, Any]:
    catalog = default_catalog()
    with factory() as session:
        report = _citizen_report(session, code, citizen)
        if report.reporter_id != citizen:
            raise ApiError(
                403, "not_reporter", "Chỉ người gửi phản ánh mới đánh giá hoặc mở lại được."
            )
        now: datetime = utcnow()
        try:
            change_state(
                session,
                report,
                to,
                Actor.CITIZEN,
                actor_id=citizen,
                message=message,
                rating=rating,
                catalog=catalog,
                now=now,
            )
        except TransitionError as exc:
            session.rollback()
            state = STATE_LABELS[report.state]
            if exc.code == "transition_not_allowed":
                raise ApiError(
                    409,
                    "not_now",
                    f'Phản ánh {report.code} đang ở trạng thái "{state}", nên chưa '
                    + ("đánh giá" if to is State.RATED else "mở lại")
                    + " được.",
                ) from exc
            raise ApiError(422, exc.code, exc.message) from exc
        return report_summary(report, catalog)


@router.post("/reports/{code}/rating", summary="The reporter rates a resolved report (1–5)")
def rate(code: str, body: RatingIn, factory: SessionFactoryDep) -> dict[str, Any]:
    return _citizen_move(factory, code, body.citizen, State.RATED, message=None, rating=body.rating)


@router.post("/reports/{code}/reopen", summary="The reporter says it is not fixed")
def reopen(code: str, body: ReopenIn, factory: SessionFactoryDep) -> dict[str, Any]:
    reason = normalize_message(body.reason, max_chars=2000)
    return _citizen_move(factory, code, body.citizen, State.REOPENED, message=reason, rating=None)
