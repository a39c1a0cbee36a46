"""Open311 GeoReport v2 (JSON): services, service definitions, requests, tokens.

Services are the report categories; a POSTed request becomes a report routed like any
other (its commune is read from ``address_string`` when it names one). Our states map to
``open`` / ``closed`` with the Vietnamese state and the latest reply in ``status_notes``.
Personal data (who reported, e-mail, phone) is never returned. Errors follow the spec: a
list of ``{code, description}``. Only the ``.json`` format is served.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bot.apiclients.models import ClientKind, client_for_key
from bot.db import utcnow
from bot.deps import SessionFactoryDep
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import OPEN_STATES, STATE_LABELS, State
from bot.reports.models import Report
from bot.reports.places import commune_in
from bot.reports.service import ReportDraft, ReportError, report_by_code, submit_report

router = APIRouter(prefix="/open311/v2", tags=["open311"])
MAX_RANGE = timedelta(days=90)
CLOSED = {State.RESOLVED, State.REJECTED, State.DUPLICATE, State.RATED}
OPEN = OPEN_STATES | {State.TRANSFERRED}


def error(status: int, description: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=[{"code": status, "description": description}])


def _json_only(fmt: str) -> JSONResponse | None:
    if fmt != "json":
        return error(400, "Chỉ hỗ trợ định dạng json (ví dụ /open311/v2/services.json).")
    return None


@router.get("/discovery.json", summary="Open311 service discovery")
def discovery(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    return {
        "changeset": "2026-11-26",
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


@router.get("/services.{fmt}", summary="Report categories as Open311 services")
def services(fmt: str) -> Any:
    if (refused := _json_only(fmt)) is not None:
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


@router.get("/services/{service_code}.{fmt}", summary="A service definition")
def service_definition(service_code: str, fmt: str) -> Any:
    if (refused := _json_only(fmt)) is not None:
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


def _w3c(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/requests.{fmt}", summary="Service requests, filtered as the spec says")
def list_requests(request: Request, fmt: str, factory: SessionFactoryDep) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    params = request.query_params
    query = select(Report).where(Report.code.is_not(None)).order_by(Report.created_at.desc())
    if ids := params.get("service_request_id"):
        query = query.where(Report.code.in_([i.strip().upper() for i in ids.split(",")]))
    else:
        try:
            end = _w3c(params["end_date"]) if params.get("end_date") else utcnow()
            start = _w3c(params["start_date"]) if params.get("start_date") else end - MAX_RANGE
        except ValueError:
            return error(
                400, "start_date/end_date phải theo định dạng w3c, ví dụ 2026-01-01T00:00:00Z."
            )
        if end < start or end - start > MAX_RANGE:
            return error(400, "Khoảng thời gian phải hợp lệ và không quá 90 ngày.")
        query = query.where(Report.created_at >= start, Report.created_at <= end)
        if codes := params.get("service_code"):
            query = query.where(Report.category.in_([c.strip() for c in codes.split(",")]))
        if statuses := params.get("status"):
            wanted = {s.strip() for s in statuses.split(",")}
            if not wanted <= {"open", "closed"}:
                return error(400, "status chỉ nhận open hoặc closed.")
            states = (OPEN if "open" in wanted else set()) | (
                CLOSED if "closed" in wanted else set()
            )
            query = query.where(Report.state.in_(states))
    with factory() as session:
        return [_as_request(r) for r in session.scalars(query.limit(1000))]


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request")
def get_request(service_request_id: str, fmt: str, factory: SessionFactoryDep) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    with factory() as session:
        report = report_by_code(session, service_request_id)
        if report is None:
            return error(404, f"Không có yêu cầu {service_request_id}.")
        return [_as_request(report)]


@router.get("/tokens/{token}.{fmt}", summary="The request id for a token")
def token(token: str, fmt: str, factory: SessionFactoryDep) -> Any:
    """Requests are created at once, so a token is the request's own id."""
    if (refused := _json_only(fmt)) is not None:
        return refused
    with factory() as session:
        report = report_by_code(session, token)
        if report is None:
            return error(404, f"Không có mã {token}.")
        return [{"service_request_id": report.code, "token": token}]


@router.post("/requests.{fmt}", summary="Create a service request (API key required)")
async def post_request(request: Request, fmt: str, factory: SessionFactoryDep) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=False).items()}
    form = {**{k: v for k, v in request.query_params.items()}, **form}
    catalog = default_catalog()
    with factory() as session:
        client = client_for_key(session, form.get("api_key"), ClientKind.OPEN311)
        if client is None:
            return error(403, "Khóa API không hợp lệ hoặc đã bị thu hồi.")
        code = form.get("service_code")
        if not code or code not in catalog.categories:
            return error(400, "service_code không hợp lệ (xem /open311/v2/services.json).")
        address = form.get("address_string")
        try:
            lat = float(form["lat"]) if form.get("lat") else None
            lon = float(form["long"]) if form.get("long") else None
        except ValueError:
            return error(400, "lat/long phải là số.")
        if (lat is None or lon is None) and not address:
            return error(400, "Cần vị trí: lat và long, hoặc address_string.")
        contact = form.get("email") or form.get("phone") or form.get("device_id") or "anonymous"
        draft = ReportDraft(
            description=form.get("description") or "",
            reporter_id=f"open311:{client.id}:{contact}"[:200],
            channel="open311",
            category=code,
            commune=commune_in(address),
            address=address,
            latitude=lat,
            longitude=lon,
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
