"""The operations centre reveals a reporter's contact to call them back; every reveal is logged.

Staff see a reporter only as a masked handle ("Telegram · ***4521"). An operator who needs to
call back asks for the contact with a reason; the reveal is recorded in the staff audit log
(who, which report, why, when) in the same transaction that answers it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from bot.conversations.citizens import contact_of, reporter_handle
from bot.deps import SessionFactoryDep
from bot.errors import ApiError
from bot.staff.access import visible_report
from bot.staff.audit import record_action
from bot.staff.models import Role
from bot.staff.routes import ERRORS, IdentityDep

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class RevealIn(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]


class ReporterOut(BaseModel):
    handle: str
    channel: str
    contact: str | None = Field(
        description="Telegram chat id, the host app's citizen id, or the phone or e-mail an "
        "Open311 client gave; none for the web chat, which knows nobody's contact."
    )


@router.post(
    "/reports/{code}/reporter",
    response_model=ReporterOut,
    responses=ERRORS,
    summary="Reveal who reported, to call them back (operations centre; logged)",
)
def reveal_reporter(
    code: str, body: RevealIn, identity: IdentityDep, factory: SessionFactoryDep
) -> ReporterOut:
    with factory() as session:
        report = visible_report(session, identity, code)
        if identity.role is not Role.OPERATOR:
            raise ApiError(
                403,
                "not_permitted",
                "Chỉ Trung tâm Giám sát, điều hành đô thị thông minh mới xem được người phản ánh.",
            )
        _, contact = contact_of(report.reporter_id)
        record_action(
            session,
            staff_user_id=identity.user_id,
            action="reveal_reporter",
            report_id=report.id,
            reason=body.reason,
        )
        session.commit()
        return ReporterOut(
            handle=reporter_handle(report.reporter_id),
            channel=report.reporter_channel,
            contact=contact,
        )
