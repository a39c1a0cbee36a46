"""The one word core (vitext/words.py): splitting with exact offsets, folding, i/y, the tone's
place, teencode from the one table, and spelling comparisons."""

from __future__ import annotations

import unicodedata

import pytest

from vitext.lexicon import ABBREVIATIONS
from vitext.words import (
    abbreviation,
    folded,
    marked,
    matching_form,
    same_word,
    spelled_alike,
    spelling,
    words,
)


@pytest.mark.parametrize("text", ["Vĩ Dạ", "Vỹ Dạ", "vi da", "VY DA", "vy  dạ"])
def test_i_and_y_fold_alike(text: str) -> None:
    assert folded(text) == "vy da"


@pytest.mark.parametrize(
    ("a", "b"), [("kí", "ký"), ("lí", "lý"), ("Mĩ", "Mỹ"), ("quí", "quý"), ("ti", "ty")]
)
def test_i_and_y_are_spelt_alike(a: str, b: str) -> None:
    assert spelling(a) == spelling(b)
    assert words(a)[0].folded == words(b)[0].folded


def test_i_stays_where_it_is_not_the_only_vowel() -> None:
    assert folded("hoài tuổi khuya quy") == "hoai tuoi khuya quy"


def test_the_tone_has_one_place() -> None:
    assert spelling("hoà") == spelling("hòa") == "hòa"
    assert spelling("Thuỷ") == spelling("thủy") == "thủy"
    assert spelling("Hóa") != spelling("Hòa")  # another tone, another word


def test_teencode_is_expanded_from_the_one_table() -> None:
    assert [w.folded for w in words("ko co hinh", expand=True)] == ["khong", "co", "hinh"]
    assert [w.folded for w in words("đk khai sinh", expand=True)] == [
        "dang",
        "ky",
        "khai",
        "sinh",
    ]
    assert abbreviation("ĐK") == "đăng ký"
    assert abbreviation("hông") == "không"  # a dialect key, matched as written


@pytest.mark.parametrize("word", ["hồng", "hỏng", "hẻm", "mụn", "kò", "hong", "hem", "kg"])
def test_a_word_with_marks_or_an_ambiguous_form_is_not_teencode(word: str) -> None:
    assert abbreviation(word) is None
    assert [w.expanded for w in words(word, expand=True)] == [False]


def test_the_table_keys_are_lower_case_with_d_for_đ() -> None:
    for key, full in ABBREVIATIONS.items():
        assert key == key.lower() and "đ" not in key and full == unicodedata.normalize("NFC", full)


def test_expanded_words_span_the_abbreviation() -> None:
    text = "làm cccd ở mô"
    expanded = [w for w in words(text, expand=True) if w.expanded]
    assert [w.folded for w in expanded] == ["can", "cuoc"]
    assert {text[w.start : w.end] for w in expanded} == {"cccd"}
    assert not any(w.marked for w in expanded)


def test_offsets_index_the_text_as_given_even_with_combining_marks() -> None:
    nfc = "Phường Vĩ Dạ, kiệt 3"
    nfd = unicodedata.normalize("NFD", nfc)
    for text in (nfc, nfd):
        found = words(text)
        assert [w.written for w in found] == ["phường", "vĩ", "dạ", "kiệt", "3"]
        for w in found:
            assert unicodedata.normalize("NFC", text[w.start : w.end]).lower() == w.written


def test_invisible_characters_do_not_split_a_word() -> None:
    text = "đăng\u200bký"
    (word,) = words(text)
    assert (word.written, word.start, word.end) == ("đăngký", 0, len(text))


def test_marked_counts_đ() -> None:
    assert marked("đi") and marked("Đèn") and not marked("den")
    assert words("ki")[0].marked is False  # i/y alone is not a mark
    assert words("kí")[0].marked is True


def test_spelled_alike_reads_diacritics_only_where_typed() -> None:
    assert spelled_alike("den", "đèn")  # without marks: it may be
    assert spelled_alike("đèn", "đèn")
    assert not spelled_alike("đến", "đèn")
    assert spelled_alike("kí", "ký")
    assert spelled_alike("đến", None)  # nothing wanted


def test_same_word_takes_a_word_without_marks_as_written() -> None:
    (ga,) = words("ga")
    (ga_typed_with_marks,) = words("gà")
    assert not same_word(ga_typed_with_marks, ga)
    assert same_word(ga, words("gà")[0])


def test_matching_form_keeps_one_character_per_character() -> None:
    text = "Phường Vĩ Dạ, kí tên"
    assert matching_form(text) == "phuong vy da, ky ten"
    assert len(matching_form(text)) == len(text)
