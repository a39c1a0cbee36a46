"""Public, read-only procedure API: search, one procedure, an answer for one aspect."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.schemas import ErrorResponse
from bot.deps import SessionFactoryDep
from bot.errors import ApiError
from bot.procedures.answers import Answer, AnswerBuilder, Aspect
from bot.procedures.models import Procedure
from bot.procedures.search import ProcedureSearch

router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])


class HitOut(BaseModel):
    code: str
    name: str
    field: str | None
    levels: list[str]
    url: str
    score: float
    # How well the words match, alone (what decides "matched"); the chat asks for more of it
    # before answering a message its classifier took for something else.
    relevance: float


class SearchOut(BaseModel):
    query: str
    terms: list[str]
    matched: bool
    hits: list[HitOut]
    alternatives: list[HitOut]  # close to the best: ask the citizen which one they mean


class ButtonOut(BaseModel):
    title: str
    payload: str


class AnswerOut(BaseModel):
    code: str
    name: str
    aspect: Aspect
    text: str
    buttons: list[ButtonOut]


class ProcedureOut(BaseModel):
    code: str
    name: str
    url: str
    source_name: str
    source_retrieved: str
    data: dict[str, Any]


def _search(request: Request) -> ProcedureSearch:
    search: ProcedureSearch = request.app.state.procedure_search
    return search


def _hit(h: Any) -> HitOut:
    return HitOut(
        code=h.code, name=h.name, field=h.field, levels=h.levels, url=h.url, score=h.score,
        relevance=h.relevance,
    )  # fmt: skip


@router.get("/search", response_model=SearchOut, summary="Find procedures by a citizen's words")
def search_procedures(
    request: Request,
    factory: SessionFactoryDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SearchOut:
    with factory() as session:
        result = _search(request).search(session, q, limit=limit)
    return SearchOut(
        query=q,
        terms=result.query.terms,
        matched=result.best is not None,
        hits=[_hit(h) for h in result.hits],
        alternatives=[_hit(h) for h in result.alternatives],
    )


def _procedure(factory: sessionmaker[Session], code: str) -> Procedure:
    with factory() as session:
        row = session.scalars(select(Procedure).where(Procedure.code == code.strip())).first()
    if row is None:
        raise ApiError(
            404,
            "procedure_not_found",
            f"Không có thủ tục mã {code.strip()} trong danh mục. Bạn kiểm tra lại mã thủ tục nhé.",
        )
    return row


@router.get(
    "/{code}",
    response_model=ProcedureOut,
    responses={404: {"model": ErrorResponse}},
    summary="One procedure with everything parsed from the catalogue",
)
def get_procedure(code: str, factory: SessionFactoryDep) -> ProcedureOut:
    row = _procedure(factory, code)
    return ProcedureOut(
        code=row.code,
        name=row.name,
        url=row.url,
        source_name=row.source_name,
        source_retrieved=row.source_retrieved,
        data=row.data,
    )


@router.get(
    "/{code}/answer",
    response_model=AnswerOut,
    responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="A short Vietnamese answer about one aspect of a procedure",
)
def answer(
    code: str,
    factory: SessionFactoryDep,
    aspect: Aspect = Aspect.OVERVIEW,
    full: bool = False,
    commune: Annotated[str | None, Query(max_length=100)] = None,
) -> AnswerOut:
    row = _procedure(factory, code)
    built: Answer = AnswerBuilder(row, commune=commune).build(aspect, full=full)
    return AnswerOut(
        code=row.code,
        name=row.name,
        aspect=aspect,
        text=built.text,
        buttons=[ButtonOut(title=b.title, payload=b.payload) for b in built.buttons],
    )
