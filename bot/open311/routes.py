"""Open311 GeoReport v2 (JSON): services, service definitions, requests, tokens.

Services are the report categories; a POSTed request becomes a report routed like any
other (its commune is read from ``address_string`` when it names one). Our states map to
``open`` / ``closed`` with the Vietnamese state and the latest reply in ``status_notes``.
Personal data (who reported, e-mail, phone) is never returned. Errors follow the spec: a
list of ``{code, description}``. Only the ``.json`` format is served.

One jurisdiction is served (OPEN311_JURISDICTION_ID, named in discovery): ``jurisdiction_id``
may be omitted, any other value is a 400. A request's ``lat``/``long`` must be in Huế's
bounding box (bot/bounds.py). The ``api_key`` a client puts in the query string is never
logged (bot/logs.py scrubs query strings).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bot.apiclients.models import ClientKind, client_for_key
from bot.db import utcnow
from bot.deps import SessionFactoryDep, SettingsDep
from bot.inputguard import INVALID_TEXT
from bot.open311.params import (
    MAX_IDS,
    JurisdictionQuery,
    RequestFields,
    coordinates,
    id_list,
    period,
    spec_errors,
)
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import OPEN_STATES, STATE_LABELS, State
from bot.reports.models import Report
from bot.reports.places import commune_in
from bot.reports.service import ReportDraft, ReportError, report_by_code, submit_report
from bot.settings import Settings
from vitext import invalid_character

router = APIRouter(prefix="/open311/v2", tags=["open311"])
CLOSED = {State.RESOLVED, State.REJECTED, State.DUPLICATE, State.RATED}
OPEN = OPEN_STATES | {State.TRANSFERRED}


def error(status: int, description: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=[{"code": status, "description": description}])


def _refused(fmt: str, jurisdiction_id: str | None, settings: Settings) -> JSONResponse | None:
    """The spec's 400 for a format other than json or a jurisdiction this endpoint does not
    serve; None when the request may go on."""
    if fmt != "json":
        return error(400, "Chỉ hỗ trợ định dạng json (ví dụ /open311/v2/services.json).")
    if jurisdiction_id and jurisdiction_id != settings.open311_jurisdiction_id:
        return error(
            400,
            f"jurisdiction_id không đúng: hệ thống này chỉ phục vụ "
            f"{settings.open311_jurisdiction_id} (có thể bỏ trống).",
        )
    return None


@router.get("/discovery.json", summary="Open311 service discovery")
def discovery(request: Request, settings: SettingsDep) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    return {
        "changeset": "2026-11-26",
        "jurisdiction_id": settings.open311_jurisdiction_id,
        "contact": "Trung tâm Giám sát, điều hành đô thị thông minh Huế — 1900 1075",
        "key_service": "Liên hệ quản trị hệ thống Hue-S để được cấp khóa API.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-26",
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


@router.get(
    "/services.{fmt}",
    responses=spec_errors(400),
    summary="Report categories as Open311 services",
)
def services(fmt: str, settings: SettingsDep, jurisdiction_id: JurisdictionQuery = None) -> Any:
    if (refused := _refused(fmt, jurisdiction_id, settings)) is not None:
        return refused
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description,
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(c.keywords[:10]),
            "group": "Phản ánh hiện trường",
        }
        for c in default_catalog().categories.values()
    ]


@router.get(
    "/services/{service_code}.{fmt}",
    responses=spec_errors(400, 404),
    summary="A service definition",
)
def service_definition(
    service_code: str, fmt: str, settings: SettingsDep, jurisdiction_id: JurisdictionQuery = None
) -> Any:
    if (refused := _refused(fmt, jurisdiction_id, settings)) is not None:
        return refused
    if service_code not in default_catalog().categories:
        return error(404, f"Không có dịch vụ mã {service_code}.")
    return {"service_code": service_code, "attributes": []}


def _as_request(report: Report) -> dict[str, Any]:
    catalog = default_catalog()
    category = catalog.categories.get(report.category or "")
    agency = catalog.agencies.get(report.agency_code or "")
    replies = [u.message for u in report.updates if u.message]
    notes = STATE_LABELS[report.state] + (f". {replies[-1]}" if replies else "")
    return {
        "service_request_id": report.code,
        "status": "closed" if report.state in CLOSED else "open",
        "status_notes": notes,
        "service_name": category.name if category else None,
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": agency.name if agency else None,
        "service_notice": None,
        "requested_datetime": report.created_at.isoformat(),
        "updated_datetime": report.updated_at.isoformat(),
        "expected_datetime": report.deadline_at.isoformat() if report.deadline_at else None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": None,
    }


@router.get(
    "/requests.{fmt}",
    responses=spec_errors(400),
    summary="Service requests, filtered as the spec says",
)
def list_requests(
    fmt: str,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    jurisdiction_id: JurisdictionQuery = None,
    service_request_id: Annotated[
        str | None, Query(description="Comma-separated request ids; the other filters are ignored")
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma-separated service codes")] = None,
    start_date: Annotated[str | None, Query(description="w3c, e.g. 2026-01-01T00:00:00Z")] = None,
    end_date: Annotated[str | None, Query(description="w3c; at most 90 days after start")] = None,
    status: Annotated[str | None, Query(description="open, closed, or both (comma)")] = None,
) -> Any:
    if (refused := _refused(fmt, jurisdiction_id, settings)) is not None:
        return refused
    query = select(Report).where(Report.code.is_not(None)).order_by(Report.created_at.desc())
    if service_request_id and id_list(service_request_id):
        ids = id_list(service_request_id)
        if len(ids) > MAX_IDS:
            return error(400, f"Tối đa {MAX_IDS} mã yêu cầu mỗi lần.")
        query = query.where(Report.code.in_([i.upper() for i in ids]))
    else:
        window = period(start_date, end_date)
        if isinstance(window, str):
            return error(400, window)
        query = query.where(Report.created_at >= window[0], Report.created_at <= window[1])
        if service_code and id_list(service_code):
            query = query.where(Report.category.in_(id_list(service_code)[:MAX_IDS]))
        if status and id_list(status):
            wanted = set(id_list(status))
            if not wanted <= {"open", "closed"}:
                return error(400, "status chỉ nhận open hoặc closed.")
            states = (OPEN if "open" in wanted else set()) | (
                CLOSED if "closed" in wanted else set()
            )
            query = query.where(Report.state.in_(states))
    with factory() as session:
        return [_as_request(r) for r in session.scalars(query.limit(1000))]


@router.get(
    "/requests/{service_request_id}.{fmt}",
    responses=spec_errors(400, 404),
    summary="One service request",
)
def get_request(
    service_request_id: str,
    fmt: str,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    jurisdiction_id: JurisdictionQuery = None,
) -> Any:
    if (refused := _refused(fmt, jurisdiction_id, settings)) is not None:
        return refused
    with factory() as session:
        report = report_by_code(session, service_request_id)
        if report is None:
            return error(404, f"Không có yêu cầu {service_request_id}.")
        return [_as_request(report)]


@router.get(
    "/tokens/{token}.{fmt}",
    responses=spec_errors(400, 404),
    summary="The request id for a token",
)
def token(
    token: str,
    fmt: str,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    jurisdiction_id: JurisdictionQuery = None,
) -> Any:
    """Requests are created at once, so a token is the request's own id."""
    if (refused := _refused(fmt, jurisdiction_id, settings)) is not None:
        return refused
    with factory() as session:
        report = report_by_code(session, token)
        if report is None:
            return error(404, f"Không có mã {token}.")
        return [{"service_request_id": report.code, "token": token}]


@router.post(
    "/requests.{fmt}",
    responses=spec_errors(400, 403),
    summary="Create a service request (API key required)",
)
def post_request(
    request: Request,
    fmt: str,
    body: Annotated[RequestFields, Form()],
    factory: SessionFactoryDep,
    settings: SettingsDep,
) -> Any:
    form = {**request.query_params, **body.model_dump(exclude_none=True)}
    if any(invalid_character(value) for value in form.values()):
        # A multipart body is not read by the input guard (bot/inputguard.py): checked here.
        return error(422, INVALID_TEXT)
    if (refused := _refused(fmt, form.get("jurisdiction_id"), settings)) is not None:
        return refused
    catalog = default_catalog()
    with factory() as session:
        client = client_for_key(session, form.get("api_key"), ClientKind.OPEN311)
        if client is None:
            return error(403, "Khóa API không hợp lệ hoặc đã bị thu hồi.")
        code = form.get("service_code")
        if not code or code not in catalog.categories:
            return error(400, "service_code không hợp lệ (xem /open311/v2/services.json).")
        address = form.get("address_string")
        place = coordinates(form.get("lat"), form.get("long"))
        if isinstance(place, str):
            return error(400, place)
        if None in place and not address:
            return error(400, "Cần vị trí: lat và long, hoặc address_string.")
        contact = form.get("email") or form.get("phone") or form.get("device_id") or "anonymous"
        draft = ReportDraft(
            description=form.get("description") or "",
            reporter_id=f"open311:{client.id}:{contact}"[:200],
            channel="open311",
            category=code,
            commune=commune_in(address),
            address=address,
            latitude=place[0],
            longitude=place[1],
        )
        now = utcnow()
        try:
            report = submit_report(
                session, draft, catalog, WorkingCalendar.load([now.year, now.year + 1]), now=now
            )
        except ReportError as exc:
            session.rollback()
            return error(400, exc.message)
        agency = catalog.agencies[report.agency_code or catalog.fallback[0]]
        return [
            {
                "service_request_id": report.code,
                "service_notice": f"Đã tiếp nhận, chuyển {agency.name}.",
                "account_id": None,
            }
        ]
