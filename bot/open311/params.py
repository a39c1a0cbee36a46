"""What Open311 clients send: the fields of a new request, its place, a listing's period."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from bot.bounds import in_hue
from bot.db import utcnow

MAX_RANGE = timedelta(days=90)
MAX_IDS = 100  # request ids or service codes in one listing
OPEN311_OUTSIDE_HUE = (
    "lat/long nằm ngoài địa bàn thành phố Huế; hệ thống chỉ tiếp nhận yêu cầu trong thành phố Huế."
)

JurisdictionQuery = Annotated[
    str | None,
    Query(
        description="Optional: this endpoint serves one jurisdiction (see discovery.json); "
        "any other value is refused."
    ),
]


class SpecError(BaseModel):
    """One error as GeoReport v2 lists them (the body is a list of these)."""

    code: int
    description: str = Field(description="A Vietnamese sentence.")


def spec_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an Open311 route: these statuses, with the spec's error list."""
    return {status: {"model": list[SpecError]} for status in statuses}


def w3c(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def period(start_date: str | None, end_date: str | None) -> tuple[datetime, datetime] | str:
    """(start, end) of a listing, or why not (at most MAX_RANGE, as the spec suggests)."""
    try:
        end = w3c(end_date) if end_date else utcnow()
        start = w3c(start_date) if start_date else end - MAX_RANGE
    except (ValueError, OverflowError):  # not a date; or none before year 1
        return "start_date/end_date phải theo định dạng w3c, ví dụ 2026-01-01T00:00:00Z."
    if end < start or end - start > MAX_RANGE:
        return "Khoảng thời gian phải hợp lệ và không quá 90 ngày."
    return start, end


def id_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class RequestFields(BaseModel):
    """POST requests.json, form-encoded as the spec says (a field in the query string counts
    too; the body wins)."""

    api_key: str | None = Field(default=None, description="The key from `hue-s api-keys create`.")
    jurisdiction_id: str | None = Field(default=None, description="Optional; see discovery.")
    service_code: str | None = Field(default=None, description="From services.json.")
    lat: str | None = Field(default=None, description="WGS84 latitude, inside Huế.")
    long: str | None = Field(default=None, description="WGS84 longitude, inside Huế.")
    address_string: str | None = Field(default=None, description="Needed without lat/long.")
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    description: str | None = Field(default=None, description="What is wrong, in Vietnamese.")


def coordinates(lat: str | None, long: str | None) -> tuple[float | None, float | None] | str:
    """(lat, long) as numbers in Huế, either None when not given; or why they are refused."""
    try:
        latitude = float(lat) if lat else None
        longitude = float(long) if long else None
    except ValueError:
        return "lat/long phải là số."
    if latitude is not None and longitude is not None:
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            return "lat/long phải là số."
        if not in_hue(latitude, longitude):
            return OPEN311_OUTSIDE_HUE
    return latitude, longitude
