"""The agency-side API: staff log in, see the reports they may see, and move them along.

Tokens are Bearer JWTs from POST /api/v1/staff/login, valid for STAFF_TOKEN_MINUTES and renewed
with POST /api/v1/staff/token/refresh while live; POST /api/v1/staff/logout ends the session at
once. A token only names a session: role and agency are read from the database on every
request (bot/staff/sessions.py). Agency staff see only their agency's reports (another
agency's report answers 404, as if it did not exist); operators see all and may reassign.
Every change goes through the lifecycle rules and is recorded with its actor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

from bot.conversations.schemas import ErrorResponse
from bot.db import utcnow
from bot.deps import SessionFactoryDep, SettingsDep
from bot.errors import ApiError, error_response
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import Actor, State, TransitionError
from bot.reports.models import Report
from bot.reports.overdue import is_overdue
from bot.reports.service import change_state, report_by_code
from bot.reports.stats import agency_stats
from bot.staff import sessions
from bot.staff.access import report_view, visible_report, visible_reports
from bot.staff.models import Role
from bot.staff.security import AuthError, StaffIdentity

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "wrong username or password"},
    422: {"model": ErrorResponse},
    429: {
        "model": ErrorResponse,
        "description": "too many failed logins for this username or from this address; the "
        "same sentence as a wrong password, with how long to wait (also in Retry-After)",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}
SESSION_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _text(value: str) -> str:
    """Refuse what no username or password holds and the database cannot store (422)."""
    if "\x00" in value:
        raise ValueError("NUL character")
    value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_text)]
    password: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_text)]


class LoginOut(BaseModel):
    token: str
    expires_in_seconds: int
    role: Role
    agency_code: str | None
    # Renew the token before it expires (POST /token/refresh); after this, log in again.
    session_expires_in_seconds: int


class TransitionIn(BaseModel):
    to: State
    message: str | None = Field(default=None, max_length=4000)
    agency: str | None = Field(default=None, max_length=60)
    duplicate_of: str | None = Field(default=None, max_length=20)
    extension_days: int | None = Field(default=None, ge=1, le=60)


def _bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "login_required", "Vui lòng đăng nhập.")
    return authorization.split(" ", 1)[1].strip()


BearerDep = Annotated[str, Depends(_bearer)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refused(request: Request, exc: AuthError) -> ApiError:
    """A token refused; logged, as every authentication decision is (ASVS 7.2.1)."""
    structlog.get_logger("bot.staff").info(
        "staff_token_refused", code=exc.code, path=request.url.path, client=_client(request)
    )
    return ApiError(401, exc.code, exc.message)


def _identity(
    request: Request, settings: SettingsDep, factory: SessionFactoryDep, token: BearerDep
) -> StaffIdentity:
    """Who is asking: the session the token names must be live, its account active and at
    the same version; role and agency come from the account as it is now."""
    with factory() as session:
        try:
            return sessions.identify(session, token, settings.staff_token_secret.get_secret_value())
        except AuthError as exc:
            raise _refused(request, exc) from exc


IdentityDep = Annotated[StaffIdentity, Depends(_identity)]


def _token_out(issued: sessions.IssuedToken, now: datetime) -> LoginOut:
    return LoginOut(
        token=issued.token,
        expires_in_seconds=int((issued.expires_at - now).total_seconds()),
        role=issued.identity.role,
        agency_code=issued.identity.agency_code,
        session_expires_in_seconds=int((issued.session_ends_at - now).total_seconds()),
    )


@router.post("/login", response_model=LoginOut, responses=LOGIN_ERRORS, summary="Staff log in")
def login(
    body: LoginIn, request: Request, settings: SettingsDep, factory: SessionFactoryDep
) -> LoginOut | JSONResponse:
    """A token for this username and password. After STAFF_LOGIN_MAX_FAILURES wrong passwords
    in a row for a username (known or not), or STAFF_ADDRESS_MAX_FAILURES in an hour from one
    address, logins are refused for a while (429 with Retry-After), even with the right
    password; each further lock lasts twice as long."""
    throttle_policy, session_policy = sessions.policies(settings)
    now = utcnow()
    with factory() as session:
        try:
            issued = sessions.log_in(
                session,
                username=body.username,
                password=body.password,
                address=_client(request),
                secret=settings.staff_token_secret.get_secret_value(),
                throttle_policy=throttle_policy,
                session_policy=session_policy,
                now=now,
            )
        except sessions.LoginRefused as exc:
            if exc.retry_after is None:
                raise ApiError(401, exc.code, exc.message) from exc
            response = error_response(429, exc.code, exc.message)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
    return _token_out(issued, now)


@router.post(
    "/token/refresh",
    response_model=LoginOut,
    responses=SESSION_ERRORS,
    summary="The next token of a live session",
)
def refresh(
    request: Request, token: BearerDep, settings: SettingsDep, factory: SessionFactoryDep
) -> LoginOut:
    """Exchange a token that has not expired for a new one (call it before
    `expires_in_seconds` runs out); refused once the session is over (log in again)."""
    _, session_policy = sessions.policies(settings)
    now = utcnow()
    with factory() as session:
        try:
            issued = sessions.refresh(
                session, token, settings.staff_token_secret.get_secret_value(), session_policy, now
            )
        except AuthError as exc:
            raise _refused(request, exc) from exc
    return _token_out(issued, now)


@router.post(
    "/logout", status_code=204, responses=SESSION_ERRORS, summary="End this session at once"
)
def logout(
    request: Request,
    token: BearerDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    everywhere: Annotated[
        bool, Query(description="end every session of this account, on every device")
    ] = False,
) -> Response:
    with factory() as session:
        try:
            secret = settings.staff_token_secret.get_secret_value()
            sessions.log_out(session, token, secret, everywhere=everywhere)
        except AuthError as exc:
            raise _refused(request, exc) from exc
    return Response(status_code=204)


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
