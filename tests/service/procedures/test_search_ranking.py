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
    # Folded words have i/y canonical (vitext.words): "di" is "dy".
    assert "dy" not in analyse("đi công chứng giấy tờ ở mô").terms
    assert {"dy", "chuc"} <= set(analyse("chứng thực di chúc").terms)


def test_an_abbreviation_of_an_official_phrase_keeps_both_spellings():
    # The catalogue writes "sổ BHXH, thẻ BHYT" in some names and the words out in others.
    assert {"bhyt", "bao", "hiem", "y", "te"} <= set(analyse("thẻ bảo hiểm y tế").terms)
    assert {"bhyt", "bao", "hiem", "y", "te"} <= set(analyse("the bhyt").terms)


def test_a_question_word_is_dropped_only_when_written_as_one():
    # "hỏi" (ask) is a question word, "hồi" in "thu hồi" (recall) is not; "thì" is one,
    # "thi" (an exam) typed among words with diacritics is not.
    assert "hoi" not in analyse("cho hỏi thủ tục làm hộ chiếu").terms
    assert "hoi" in analyse("thu hồi đăng ký xe").terms
    assert "thy" in analyse("thi bằng lái ở mô").terms  # i/y canonical: "thi" is "thy"
    assert "thy" not in analyse("mất rồi thì làm răng").terms


def test_a_phrase_written_with_marks_matches_only_words_written_alike():
    # "cưới" (to wed) is a wedding; "cuối năm" (year's end) is not.
    assert {"ket", "hon"} <= set(analyse("hai đứa tính cưới").terms)
    assert "hon" not in analyse("quyết toán thuế cuối năm").terms
    assert "hon" in analyse("tach ho khau sau khi cuoi").terms  # typed without marks: may be


def test_teencode_is_not_read_into_a_word_written_with_marks():
    assert words("ko") == ["khong"]
    assert words("không") == ["khong"]
    assert words("kò") == ["ko"]
    assert words("sổ hồng") == ["so", "hong"]
    assert words("đk") == ["dang", "ky"]
    # "hong" is not teencode either: "so hong" is the land title sổ hồng (vitext.lexicon).
    assert words("so hong") == ["so", "hong"]


def test_fillers_go_before_phrases_are_matched():
    # "nhận đứa con" is "nhận con": the phrase around the classifier meets.
    assert {"nhan", "cha", "me", "con"} <= set(analyse("bọ muốn nhận đứa con riêng").terms)


def test_words_of_why_and_of_when_are_set_apart():
    purpose = analyse("xin chuyển đất vườn lên đất ở để xây nhà").purpose
    assert {"xay", "rieng", "le"} <= purpose and "chuyen" not in purpose
    # "làm sao để …" asks how to do it: what follows is the question itself.
    assert not analyse("lam sao de thu hoi dang ky xe").purpose
    condition = analyse("đổi từ cmnd sang cccd thì có phải đăng ký thay đổi trên sổ đỏ").condition
    assert {"can", "cuoc"} <= condition and "dat" not in condition


def test_a_stated_age_asks_for_its_bracket():
    analysed = analyse("làm căn cước cho con 10 tuổi", ages=[("duoi", 14), ("du", 14)])
    assert analysed.age == 10
    assert {"duoi", "14", "tuoi"} <= analysed.asked
    assert analyse("cho bé dưới 6 tuổi").age == 5


def test_the_stop_order_is_the_same_on_every_run():
    from bot.procedures.search import Lexicon

    stop = Lexicon.load().stop
    assert stop == sorted(stop, key=lambda p: (-len(p), p))


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
        # Diacritics that tell words apart: "thu hồi" is not "cho hỏi", "cũ" is not "cư".
        ("xe máy hư nát, thu hồi giấy đăng ký và biển số", "1.013123"),
        ("tính phá cái nhà cũ xây lại, xin phép ở mô", "1.013225"),
        # An age picks the bracket; a purpose or a condition does not name the procedure.
        ("làm thẻ căn cước cho đứa nhỏ 9 tuổi", "1.014062"),
        ("làm thẻ căn cước cho con 16 tuổi", "1.014061"),
        ("xin chuyển đất trồng cây lâu năm lên đất ở để làm nhà", "1.013949"),
        ("cấp giấy phép lái xe sau khi sát hạch đạt", "3.000346"),
        # A name listing actions as either-or answers any one of them.
        ("thẻ bhyt ghi sai ngày sinh, điều chỉnh ở mô", "1.002759"),
        # A torn paper is exchanged; "đổi lại" is not a re-issue.
        ("sổ đỏ bị rách, xin đổi", "1.012783"),
        ("thẻ căn cước bị gãy, đổi lại ở mô", "1.014063"),
        # A foreign paper, by the country it is from (blind tuning J-m070).
        (
            "toi co bang lai xe cua Uc, muon doi sang bang lai Viet Nam thi di den dau lam?",
            "3.000351",
        ),
    ],
)
def test_the_sibling_the_question_means_comes_first(search, catalogue, query, code):
    assert first(search, catalogue, query) == code


def test_without_diacritics_a_word_pair_of_the_names_tells_the_words_apart(search, catalogue):
    # "thu hoi" is "thu hồi" (recall), a pair the names have; "cho hoi" is "cho hỏi" (ask).
    with catalogue() as session:
        assert "hoi" in search.search(session, "thu hoi dang ky bien so xe").query.terms
        assert "hoi" not in search.search(session, "cho hoi thu tuc lam ho chieu").query.terms


def test_a_lost_word_far_from_a_document_does_not_ask_for_a_reissue(search, catalogue):
    assert first(search, catalogue, "làm sổ đỏ lần đầu mất bao lâu") == "1.013978"


def test_words_are_read_by_the_word_core():
    # i/y, the tone's place and teencode from vitext.words: one reading for every spelling.
    assert words("Vĩ Dạ") == words("Vỹ Dạ") == words("vi da")
    assert words("ko co hinh") == ["khong", "co", "hinh"]
    assert words("đk khai sinh") == ["dang", "ky", "khai", "sinh"]
    # "kí" is written as the names write "ký": not a word the name writes otherwise.
    assert analyse("kí hợp đồng thuê nhà").written["ky"] == "ký"
    assert analyse("hoà giải tranh chấp").written == analyse("hòa giải tranh chấp").written
