"""VietnameseTokenizer: pyvi words with exact offsets into the message as typed."""

from __future__ import annotations

import unicodedata

import pytest
from rasa.shared.nlu.training_data.message import Message

from hue_rasa.tokenizer import VietnameseTokenizer


def tokenize(text: str, **config: object) -> list:
    tokenizer = VietnameseTokenizer({**VietnameseTokenizer.get_default_config(), **config})
    return tokenizer.tokenize(Message({"text": text}), "text")


def spans(text: str, **config: object) -> list[tuple[str, int, int, str]]:
    return [(t.text, t.start, t.end, t.lemma) for t in tokenize(text, **config)]


SENTENCES = [
    "Làm căn cước công dân ở mô rứa?",
    "Cho mình hỏi đăng ký khai sinh cần giấy tờ gì ạ",
    "đèn đường kiệt 45/12 Phan Đình Phùng tắt mấy hôm rồi!!!",
    "PA-2026-000123 tới đâu rồi ad 🙏",
    "lam can cuoc o dau vay",
    "Hồ sơ 000.00.21.H57-250612-0003 xử lý xong chưa?",
    "sdt mình là 0905.123.456, gọi lại giúp nha",
    "ngày 30/4/2026 có làm việc không…",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_every_token_is_the_exact_substring_at_its_offsets(text: str) -> None:
    tokens = tokenize(text)
    assert tokens
    for token in tokens:
        assert text[token.start : token.end] == token.text
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)


def test_pyvi_glues_syllables_into_words_and_lemma_drops_diacritics() -> None:
    assert spans("Làm căn cước công dân ở mô rứa?") == [
        ("Làm", 0, 3, "lam"),
        ("căn cước", 4, 12, "can_cuoc"),
        ("công dân", 13, 21, "cong_dan"),
        ("ở", 22, 23, "o"),
        ("mô", 24, 26, "mo"),
        ("rứa", 27, 30, "rua"),
    ]


def test_without_segmentation_every_syllable_is_a_token() -> None:
    assert [t[0] for t in spans("căn cước công dân", segment=False)] == [
        "căn",
        "cước",
        "công",
        "dân",
    ]


def test_lemma_keeps_diacritics_when_asked() -> None:
    assert [t[3] for t in spans("Căn cước", strip_accents=False)] == ["căn_cước"]


def test_nfd_input_keeps_offsets_into_the_nfd_text() -> None:
    text = unicodedata.normalize("NFD", "Đăng ký khai sinh ở phường Vỹ Dạ")
    tokens = tokenize(text)
    assert [t.lemma for t in tokens] == ["dang_ky", "khai_sinh", "o", "phuong", "vy_da"]
    for token in tokens:
        assert text[token.start : token.end] == token.text
    assert unicodedata.normalize("NFC", tokens[-1].text) == "Vỹ Dạ"


def test_typed_underscores_stay_inside_one_token() -> None:
    assert spans("can_cuoc mất bao lâu")[0] == ("can_cuoc", 0, 8, "can_cuoc")


def test_codes_dates_and_numbers_are_single_tokens() -> None:
    texts = [t[0] for t in spans("PA-2026-000123 nộp ngày 12/3/2025 số 0905.123.456")]
    assert "PA-2026-000123" in texts
    assert "12/3/2025" in texts
    assert "0905.123.456" in texts


def test_punctuation_and_emoji_are_not_tokens() -> None:
    assert [t[0] for t in spans("cảm ơn ad 🙏!!! ...")] == ["cảm ơn", "ad"]


def test_abbreviations_are_expanded_in_the_lemma_only() -> None:
    tokens = spans("ko dc thì sao, cccd mất bao lâu")
    assert ("ko", 0, 2, "khong") in tokens
    assert ("dc", 3, 5, "duoc") in tokens
    assert ("cccd", 15, 19, "can_cuoc") in tokens


def test_empty_message_has_no_tokens() -> None:
    assert tokenize("") == []


def test_a_message_of_only_emoji_is_one_token() -> None:
    assert spans("👍") == [("👍", 0, 1, "👍")]


def test_only_whitespace_between_syllables_can_be_glued() -> None:
    # "căn,cước" must stay two tokens: pyvi may label them as one word, the comma says no.
    assert [t[0] for t in spans("căn,cước")] == ["căn", "cước"]
