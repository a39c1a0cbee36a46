"""GET /api/v1/applications/{code}: the state of an application filed at a one-stop shop."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel

from bot.applications.adapter import InvalidApplicationCodeError, OneStopShop, normalise_code
from bot.conversations.schemas import ErrorResponse
from bot.errors import ApiError

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


class ApplicationOut(BaseModel):
    code: str
    procedure_name: str
    procedure_code: str | None
    state: str
    state_label: str
    received_on: date
    due_on: date | None
    office: str
    note: str | None
    is_demo: bool


@router.get(
    "/{code}",
    response_model=ApplicationOut,
    responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="Look up an application by the code on its receipt",
)
def get_application(code: str, request: Request) -> ApplicationOut:
    try:
        normalised = normalise_code(code)
    except InvalidApplicationCodeError as exc:
        raise ApiError(
            422,
            "invalid_application_code",
            "Mã hồ sơ không đúng dạng. Mã in trên giấy tiếp nhận, ví dụ 000.00.21.H57-250612-0003.",
        ) from exc
    shop: OneStopShop = request.app.state.one_stop_shop
    status = shop.lookup(normalised)
    if status is None:
        raise ApiError(
            404,
            "application_not_found",
            f"Không tìm thấy hồ sơ có mã {normalised}. Bạn kiểm tra lại mã trên giấy tiếp nhận "
            "hoặc hỏi nơi đã nộp hồ sơ nhé.",
        )
    return ApplicationOut(
        code=status.code,
        procedure_name=status.procedure_name,
        procedure_code=status.procedure_code,
        state=status.state.value,
        state_label=status.state_label,
        received_on=status.received_on,
        due_on=status.due_on,
        office=status.office,
        note=status.note,
        is_demo=status.is_demo,
    )
