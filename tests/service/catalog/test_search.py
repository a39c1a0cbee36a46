"""Search over the full catalogue: the same questions give the same answers on both databases.

Every test here runs on SQLite (FTS5) and on PostgreSQL (tsvector + GIN): the expected codes
are literal, so a test passing on both shows both databases agree. Accuracy over hundreds of
citizens' questions is measured by `make bench-search`, not asserted here.
"""

from __future__ import annotations

import pytest

from bot.procedures.search import ProcedureSearch, analyse


@pytest.fixture(scope="module")
def search() -> ProcedureSearch:
    return ProcedureSearch()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # The common citizen procedure wins over its variants (mobile, re-registration…).
        ("khai sinh", "1.001193"),
        ("đăng ký khai sinh cần giấy tờ gì", "1.001193"),
        ("dang ky khai sinh can giay to gi", "1.001193"),
        ("lam giay khai sinh cho con o mo", "1.001193"),
        ("đăng ký kết hôn", "1.000894"),
        # ...unless the variant is asked for.
        ("khai sinh có yếu tố nước ngoài", "2.000528"),
        # Citizens' words for official ones.
        ("nhập hộ khẩu", "1.004222"),
        ("dang ky thuong tru", "1.004222"),
        ("làm passport", "1.001456"),
        ("cấp đổi căn cước", "1.014063"),
        ("mất cccd làm lại", "1.014064"),
        # A slip of the keyboard.
        ("dang ky khai sinhh", "1.001193"),
        # Pulling an old house down to build anew is a building permit, whatever the story
        # around it (blind tuning A-c023, B-c026).
        ("tui tính đập cái nhà cấp 4 xây lại 2 tầng ở kiệt 30 Bà Triệu", "1.013225"),
        ("nha tui o Thuy Bieu cu, muon dap nha cu xay lai 2 tang thi xin giay phep", "1.013225"),
    ],
)
def test_the_expected_procedure_comes_first(search, catalog, query, code):
    with catalog() as session:
        result = search.search(session, query, limit=3)
    assert result.best is not None
    assert result.best.code == code


def test_an_unclear_question_offers_the_close_candidates(search, catalog):
    with catalog() as session:
        result = search.search(session, "đăng ký kinh doanh", limit=5)
    # An enterprise or a household business: the citizen chooses.
    assert {h.code for h in result.alternatives} == {"2.001610", "1.001612"}


def test_the_same_procedure_at_another_level_is_not_offered_as_a_choice(search, catalog):
    with catalog() as session:
        result = search.search(session, "lam cccd", limit=5)
    codes = [h.code for h in result.alternatives]
    assert codes[0] == "1.014061"  # căn cước for 14 and over, commune level
    assert "2.000200" not in codes  # the same, "thực hiện tại cấp tỉnh"


@pytest.mark.parametrize("query", ["thời tiết huế ngày mai", "xyzzy qwerty", "???", ""])
def test_questions_outside_the_catalogue_find_nothing(search, catalog, query):
    with catalog() as session:
        assert search.search(session, query).best is None


def test_query_analysis_maps_citizen_words_and_drops_question_words():
    analysed = analyse("lam so do o mo rua, het bao nhieu tien")
    assert "so" not in analysed.terms  # "sổ đỏ" stands for the official words
    assert {"giay", "chung", "nhan", "quyen", "su", "dung", "dat"} <= set(analysed.terms)
    assert not {"mo", "rua", "bao", "nhieu", "tien"} & set(analysed.terms)
    assert analyse("CCCD").terms == analyse("căn cước công dân").terms
