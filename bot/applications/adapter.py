"""The integration point with a one-stop-shop system (hệ thống một cửa điện tử).

The assistant asks one question of such a system: "what state is the application with this
code in?". ``OneStopShop`` is that question; a city connects its real system by writing one
class with this method and naming it in the ``ONE_STOP_SHOP`` setting
(docs/integration/one-stop-shop.md).
``DatabaseOneStopShop`` answers from the service's own ``applications`` table, which a
development set-up fills with clearly marked demonstration applications.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.applications.models import Application

# Codes as printed on the receipt: 000.00.21.H57-250612-0003 (unit code, date, number).
CODE_PATTERN = re.compile(r"^[0-9A-Z]+(?:\.[0-9A-Z]+)*-\d{6}-\d{4}$")


class ApplicationState(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    ADDITIONAL_DOCUMENTS_REQUIRED = "additional_documents_required"
    DONE = "done"
    RETURNED = "returned"
    REJECTED = "rejected"


STATE_LABELS = {
    ApplicationState.RECEIVED: "đã tiếp nhận",
    ApplicationState.PROCESSING: "đang giải quyết",
    ApplicationState.ADDITIONAL_DOCUMENTS_REQUIRED: "cần bổ sung hồ sơ",
    ApplicationState.DONE: "đã có kết quả, mời bạn đến nhận",
    ApplicationState.RETURNED: "đã trả kết quả",
    ApplicationState.REJECTED: "bị từ chối",
}


@dataclass(frozen=True)
class ApplicationStatus:
    code: str
    procedure_name: str
    procedure_code: str | None
    state: ApplicationState
    received_on: date
    due_on: date | None
    office: str
    note: str | None
    is_demo: bool

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


class InvalidApplicationCodeError(ValueError):
    pass


def normalise_code(code: str) -> str:
    cleaned = code.strip().upper()
    if not CODE_PATTERN.match(cleaned):
        raise InvalidApplicationCodeError(code)
    return cleaned


class OneStopShop(Protocol):
    def lookup(self, code: str) -> ApplicationStatus | None:
        """The application with this (normalised) code, or None when there is none."""


def load_one_stop_shop(path: str, factory: sessionmaker[Session]) -> OneStopShop:
    """The adapter class named "module:Class" in settings, built with the session factory."""
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"ONE_STOP_SHOP must look like 'package.module:Class', not {path!r}")
    adapter: OneStopShop = getattr(importlib.import_module(module_name), class_name)(factory)
    return adapter


class DatabaseOneStopShop:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def lookup(self, code: str) -> ApplicationStatus | None:
        with self.factory() as session:
            row = session.scalars(select(Application).where(Application.code == code)).first()
            if row is None:
                return None
            return ApplicationStatus(
                code=row.code,
                procedure_name=row.procedure_name,
                procedure_code=row.procedure_code,
                state=ApplicationState(row.state),
                received_on=row.received_on,
                due_on=row.due_on,
                office=row.office,
                note=row.note,
                is_demo=row.is_demo,
            )
