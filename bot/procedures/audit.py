"""The answer audit: what the assistant says about a procedure, next to where it comes from.

For each procedure (a sample, or named codes) and each aspect, the answer exactly as the chat
gives it, followed by the catalogue fields it is built from, verbatim from the catalogue file
(data/catalog/procedures.jsonl.gz, derived from the national portal). A reviewer reads them
side by side: every fact in an answer must be found in its source fields (or, for the place
in Huế, in data/catalog/hue_offices.yml, which is named where it applies).

    .venv/bin/hue-s procedures audit --sample 10 --seed 1 --out audit.md
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.procedures.answers import AnswerBuilder, Aspect
from bot.procedures.models import Procedure

# The catalogue fields each aspect's answer is built from.
SOURCE_FIELDS: dict[Aspect, tuple[str, ...]] = {
    Aspect.OVERVIEW: (
        "ten_thu_tuc",
        "ma_thu_tuc",
        "linh_vuc",
        "cap_thuc_hien",
        "co_quan_thuc_hien",
        "doi_tuong_thuc_hien",
        "ket_qua_xu_ly",
        "cach_thuc_thuc_hien",
    ),
    Aspect.DOCUMENTS: ("thanh_phan_ho_so",),
    Aspect.FEE: ("cach_thuc_thuc_hien",),
    Aspect.TIME: ("cach_thuc_thuc_hien",),
    Aspect.PLACE: ("cap_thuc_hien", "co_quan_thuc_hien", "dia_chi_tiep_nhan"),
    Aspect.ONLINE: ("cach_thuc_thuc_hien",),
    Aspect.STEPS: ("trinh_tu_thuc_hien",),
    Aspect.CONDITIONS: ("yeu_cau_dieu_kien", "doi_tuong_thuc_hien"),
}
HUE_OFFICES = "data/catalog/hue_offices.yml"


def sample_codes(session: Session, size: int, seed: int) -> list[str]:
    """``size`` procedures spread over the ministries (one from each in turn), reproducibly."""
    rows = session.execute(select(Procedure.code, Procedure.ministry).order_by(Procedure.code))
    by_ministry: dict[str, list[str]] = {}
    for code, ministry in rows:
        by_ministry.setdefault(ministry, []).append(code)
    rng = random.Random(seed)  # noqa: S311 (a reproducible sample, not a secret)
    pools = [rng.sample(codes, len(codes)) for _, codes in sorted(by_ministry.items())]
    rng.shuffle(pools)
    chosen: list[str] = []
    while len(chosen) < size and any(pools):
        for pool in pools:
            if pool and len(chosen) < size:
                chosen.append(pool.pop())
    return chosen


def _verbatim(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    # Whole, however long: a reviewer must be able to find every fact of the answer in it.
    return (text.strip() or "(trống)").replace("```", "'''")


def audit(
    session: Session,
    records: dict[str, dict[str, Any]],
    codes: Iterable[str],
    aspects: Iterable[Aspect] = tuple(Aspect),
) -> Iterator[str]:
    """Markdown, one procedure at a time: each aspect's full answer, then its source fields."""
    aspects = list(aspects)
    for code in codes:
        procedure = session.scalars(select(Procedure).where(Procedure.code == code)).first()
        record = records.get(code)
        if procedure is None or record is None:
            yield f"## {code}\n\nNot in the database or the catalogue file.\n"
            continue
        yield f"## {code} — {procedure.name}\n"
        yield f"Source: {procedure.url} ({procedure.source_name}, {procedure.source_retrieved})\n"
        builder = AnswerBuilder(procedure)
        for aspect in aspects:
            answer = builder.build(aspect, full=True)
            yield f"### {aspect.value}\n"
            yield f"Answer:\n```text\n{answer.text}\n```\n"
            for name in SOURCE_FIELDS[aspect]:
                yield f"Source field `{name}`:\n```text\n{_verbatim(record.get(name, ''))}\n```\n"
            if aspect is Aspect.PLACE:
                yield f"Where to go in Huế (if named above) comes from `{HUE_OFFICES}`.\n"
