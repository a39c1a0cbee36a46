"""Normalisation at the edge and accent folding (the standard-library module both runtimes use)."""

from __future__ import annotations

import unicodedata

import pytest

from vitext import (
    MessageTooLongError,
    fold,
    fold_words,
    nfc_with_offsets,
    normalize_message,
    strip_accents,
)


def test_normalize_message_nfc_whitespace_and_invisible_characters() -> None:
    raw = unicodedata.normalize("NFD", "  Làm\u200b căn   cước\n\tở mô ")
    assert normalize_message(raw) == "Làm căn cước ở mô"


def test_normalize_message_limit() -> None:
    assert normalize_message("a" * 10, max_chars=10) == "a" * 10
    with pytest.raises(MessageTooLongError) as exc:
        normalize_message("a" * 11, max_chars=10)
    assert (exc.value.length, exc.value.limit) == (11, 10)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("Thủy Xuân, Thuỷ Xuân", "thuy xuan, thuy xuan"),
        ("ở mô rứa?", "o mo rua?"),
        ("PA-2026 😀", "pa-2026 😀"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert len(fold(text)) == len(text)


def test_strip_accents_keeps_case_and_length() -> None:
    assert strip_accents("Huế ĐẸP") == "Hue DEP"


def test_nfc_with_offsets_maps_back_into_nfd_text() -> None:
    nfd = unicodedata.normalize("NFD", "Huế")
    nfc, starts, ends = nfc_with_offsets(nfd)
    assert nfc == "Huế"
    assert nfd[starts[2] : ends[2]] == unicodedata.normalize("NFD", "ế")


def test_fold_words_are_the_folded_letters_and_digits_one_space_apart():
    assert fold_words("Kiệt 12, Nguyễn Huệ — đèn TẮT!") == "kiet 12 nguyen hue den tat"
    assert fold_words("  ") == ""
