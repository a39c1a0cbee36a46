"""Ranking among close siblings and the query analysis it relies on.

The questions here are written for these tests (not taken from the benchmark sets): each
pins one rule of bot/procedures/search.py. The ranking tests run on SQLite over the full
catalogue; tests/service/catalog/test_search.py shows that PostgreSQL answers the same, and
`make bench-search` measures accuracy over hundreds of citizens' questions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_sessionmaker
from bot.procedures.importer import import_catalog
from bot.procedures.search import ProcedureSearch, analyse, words
from tests.service.conftest import migrate


def pairs(text: str) -> set[tuple[str, str]]:
    return set(itertools.pairwise(analyse(text).sequence))


# -- query analysis ---------------------------------------------------------------------


def test_lost_next_to_a_document_asks_for_a_reissue():
    for text in ("mất sổ đỏ", "sổ đỏ bị mất", "làm mất cà vẹt"):
        analysed = analyse(text)
        assert ("cap", "lai") in pairs(text), text
        assert "lai" in analysed.asked, text


def test_lost_elsewhere_asks_for_nothing():
    # "mất bao lâu" (how long it takes) and "bố mất" (father died) are not a lost paper.
    assert ("cap", "lai") not in pairs("làm sổ đỏ mất bao lâu")
    assert ("cap", "lai") not in pairs("bố mất, nhận tiền tuất ở mô")


def test_a_phrase_is_replaced_where_it_was_said():
    # The official words stand where "gcn" stood, so "cấp … lần đầu" pairs run across it.
    assert analyse("cấp gcn lần đầu").sequence == ["cap", "giay", "chung", "nhan", "lan", "dau"]


def test_i_and_y_spellings_are_one_word():
    assert words("đăng kí kết hôn") == words("đăng ký kết hôn")
    assert words("công ti") == words("công ty")


def test_going_is_a_question_word_but_a_will_is_not():
    assert "di" not in analyse("đi công chứng giấy tờ ở mô").terms
    assert {"di", "chuc"} <= set(analyse("chứng thực di chúc").terms)


def test_an_abbreviation_of_an_official_phrase_keeps_both_spellings():
    # The catalogue writes "sổ BHXH, thẻ BHYT" in some names and the words out in others.
    assert {"bhyt", "bao", "hiem", "y", "te"} <= set(analyse("thẻ bảo hiểm y tế").terms)
    assert {"bhyt", "bao", "hiem", "y", "te"} <= set(analyse("the bhyt").terms)


# -- ranking over the full catalogue ------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ranking') / 'catalog.db'}"
    migrate(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    import_catalog(factory)
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def search() -> ProcedureSearch:
    return ProcedureSearch()


def first(search: ProcedureSearch, catalogue: sessionmaker[Session], query: str) -> str | None:
    with catalogue() as session:
        best = search.search(session, query, limit=3).best
    return best.code if best else None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # An alias is matched in the query's own terms: "mất sổ đỏ" (an alias of the re-issue)
        # is "mất giấy chứng nhận quyền sử dụng đất" on both sides.
        ("mat so do roi, xin lai o dau", "1.012786"),
        ("sổ hồng bị mất", "1.012786"),
        # The variant the question names wins over the common sibling…
        ("mất bằng lái rồi", "3.000348"),
        ("xin giấy phép lái xe quốc tế", "3.000353"),
        ("cà vẹt bị mất", "1.013082"),
        # …and the common one stays first when no variant is named.
        ("bằng lái xe", "3.000346"),
        ("khai sinh", "1.001193"),
        # An alias that does not name the variant its official name lists ("… người gốc Việt
        # Nam định cư ở nước ngoài") is not penalised for it.
        ("làm sổ đỏ lần đầu", "1.013978"),
        # Abbreviations and slips of spelling.
        ("dkkh o phuong nao", "1.000894"),
        ("đăng kí tạm chú", "1.004194"),
    ],
)
def test_the_sibling_the_question_means_comes_first(search, catalogue, query, code):
    assert first(search, catalogue, query) == code


def test_a_lost_word_far_from_a_document_does_not_ask_for_a_reissue(search, catalogue):
    assert first(search, catalogue, "làm sổ đỏ lần đầu mất bao lâu") == "1.013978"
