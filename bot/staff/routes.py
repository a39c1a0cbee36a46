"""The agency-side API: staff log in, see the reports they may see, and move them along.

Tokens are Bearer JWTs from POST /api/v1/staff/login. Agency staff see only their agency's
reports (another agency's report answers 404, as if it did not exist); operators see all and
may reassign. Every change goes through the lifecycle rules and is recorded with its actor.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from bot.conversations.schemas import ErrorResponse
from bot.db import utcnow
from bot.deps import SessionFactoryDep, SettingsDep
from bot.errors import ApiError
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import Actor, State, TransitionError
from bot.reports.models import Report
from bot.reports.overdue import is_overdue
from bot.reports.service import change_state, report_by_code
from bot.reports.stats import agency_stats
from bot.staff.access import report_view, visible_report, visible_reports
from bot.staff.models import Role, StaffUser
from bot.staff.security import AuthError, StaffIdentity, authenticate, issue_token, read_token

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    token: str
    expires_in_seconds: int
    role: Role
    agency_code: str | None


class TransitionIn(BaseModel):
    to: State
    message: str | None = Field(default=None, max_length=4000)
    agency: str | None = Field(default=None, max_length=60)
    duplicate_of: str | None = Field(default=None, max_length=20)
    extension_days: int | None = Field(default=None, ge=1, le=60)


def _identity(
    settings: SettingsDep,
    factory: SessionFactoryDep,
    authorization: Annotated[str | None, Header()] = None,
) -> StaffIdentity:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "login_required", "Vui lòng đăng nhập.")
    try:
        identity = read_token(
            authorization.split(" ", 1)[1].strip(), settings.staff_token_secret.get_secret_value()
        )
    except AuthError as exc:
        raise ApiError(401, exc.code, exc.message) from exc
    with factory() as session:
        user = session.get(StaffUser, identity.user_id)
        if user is None or not user.active or user.role is not identity.role:
            raise ApiError(401, "invalid_token", "Phiên đăng nhập không còn hiệu lực.")
    return identity


IdentityDep = Annotated[StaffIdentity, Depends(_identity)]


@router.post("/login", response_model=LoginOut, responses=ERRORS, summary="Staff log in")
def login(body: LoginIn, settings: SettingsDep, factory: SessionFactoryDep) -> LoginOut:
    with factory() as session:
        try:
            user = authenticate(session, body.username, body.password)
        except AuthError as exc:
            raise ApiError(401, exc.code, exc.message) from exc
        ttl = timedelta(hours=settings.staff_token_hours)
        token = issue_token(user, settings.staff_token_secret.get_secret_value(), ttl)
        return LoginOut(
            token=token,
            expires_in_seconds=int(ttl.total_seconds()),
            role=user.role,
            agency_code=user.agency_code,
        )


@router.get("/reports", responses=ERRORS, summary="Reports this staff member may see")
def list_reports(
    identity: IdentityDep,
    factory: SessionFactoryDep,
    state: State | None = None,
    overdue: Annotated[
        bool, Query(description="only open reports past their deadline, the most late first")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    query = visible_reports(identity).limit(limit)
    if state is not None:
        query = query.where(Report.state == state)
    if overdue:
        query = query.where(is_overdue(utcnow())).order_by(Report.deadline_at, Report.id)
    else:
        query = query.order_by(Report.created_at.desc())
    with factory() as session:
        return [report_view(r, identity) for r in session.scalars(query)]


@router.get("/stats", responses=ERRORS, summary="On time or late, per agency, over a period")
def stats(
    identity: IdentityDep,
    factory: SessionFactoryDep,
    days: Annotated[int, Query(ge=1, le=366, description="reports filed this far back")] = 30,
) -> dict[str, Any]:
    """Agency staff: their agency's figures; operators and admins: every agency's."""
    now = utcnow()
    since = now - timedelta(days=days)
    with factory() as session:
        rows = agency_stats(session, visible_reports(identity), since=since, now=now)
    return {
        "since": since.isoformat(),
        "until": now.isoformat(),
        "agencies": [row.as_dict() for row in rows],
    }


@router.get("/reports/{code}", responses=ERRORS, summary="One report with its history")
def get_report(code: str, identity: IdentityDep, factory: SessionFactoryDep) -> dict[str, Any]:
    with factory() as session:
        report = visible_report(session, identity, code)
        view = report_view(report, identity)
        view["history"] = [
            {
                "to": u.to_state.value,
                "actor": u.actor.value,
                "agency_code": u.agency_code,
                "message": u.message,
                "at": u.created_at.isoformat(),
            }
            for u in report.updates
        ]
        return view


@router.post(
    "/reports/{code}/transitions", responses=ERRORS, summary="Move a report to another state"
)
def transition(
    code: str, body: TransitionIn, identity: IdentityDep, factory: SessionFactoryDep
) -> dict[str, Any]:
    catalog = default_catalog()
    actor = Actor.OPERATOR if identity.role is not Role.AGENCY_STAFF else Actor.AGENCY
    if body.agency is not None and body.agency not in catalog.agencies:
        raise ApiError(422, "unknown_agency", "Đơn vị xử lý không tồn tại.")
    with factory() as session:
        report = visible_report(session, identity, code)
        duplicate_of = None
        if body.duplicate_of:
            duplicate_of = report_by_code(session, body.duplicate_of)
            if duplicate_of is None:
                raise ApiError(
                    422, "unknown_report", f"Không có phản ánh {body.duplicate_of.strip()}."
                )
        now = utcnow()
        try:
            change_state(
                session,
                report,
                body.to,
                actor,
                actor_id=f"staff:{identity.user_id}",
                message=body.message,
                agency=body.agency,
                duplicate_of=duplicate_of,
                extension_days=body.extension_days,
                calendar=WorkingCalendar.load([now.year, now.year + 1]),
                catalog=catalog,
                now=now,
            )
        except TransitionError as exc:
            session.rollback()
            status = 409 if exc.code == "transition_not_allowed" else 403
            if exc.code not in {"transition_not_allowed", "not_permitted"}:
                status = 422
            raise ApiError(status, exc.code, exc.message) from exc
        return report_view(report, identity)
