"""VietnameseTokenizer: pyvi words with exact offsets into the message as typed."""

from __future__ import annotations

import unicodedata

import pytest
from rasa.shared.nlu.training_data.message import Message

from hue_rasa.tokenizer import VietnameseTokenizer, word_spans


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


# --- entity edges: a token never crosses the start or end of an entity ---------------------


def annotated(text: str, *entities: str) -> Message:
    """A training message with ``entities`` (substrings of ``text``) annotated as procedures."""
    found = []
    for value in entities:
        start = text.index(value)
        found.append({"entity": "procedure", "start": start, "end": start + len(value)})
    return Message({"text": text, "entities": found})


def words(message: Message, **config: object) -> list[str]:
    tokenizer = VietnameseTokenizer({**VietnameseTokenizer.get_default_config(), **config})
    return [t.text for t in tokenizer.tokenize(message, "text")]


def test_pyvi_glues_a_word_to_the_start_of_a_procedure_name() -> None:
    # What the tokenizer fixes: pyvi alone makes "hồ sơ cấp" one word.
    text = "cho hỏi hồ sơ cấp đổi giấy chứng nhận của tôi đang ở khâu nào"
    assert "hồ sơ cấp" in words(Message({"text": text}))


def test_a_training_message_is_cut_at_its_entity_edges() -> None:
    text = "cho hỏi hồ sơ cấp đổi giấy chứng nhận của tôi đang ở khâu nào"
    assert words(annotated(text, "cấp đổi giấy chứng nhận"))[:6] == [
        "cho",
        "hỏi",
        "hồ sơ",
        "cấp",
        "đổi",
        "giấy",
    ]


def test_an_entity_edge_cuts_without_diacritics_too() -> None:
    text = "le phi dang ky khai sinh la bao nhieu"
    tokens = words(annotated(text, "dang ky khai sinh"))
    assert tokens[:3] == ["le", "phi", "dang"]
    # the edge is only a cut: the words inside the entity stay as pyvi made them
    assert "khai sinh" in tokens


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_entity_edges_are_offsets_in_the_message_as_typed(form: str) -> None:
    text = unicodedata.normalize(form, "nộp hồ sơ cấp sổ đỏ ở chi nhánh nào")
    entity = unicodedata.normalize(form, "cấp sổ đỏ")
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    message = annotated(text, entity)
    tokens = tokenizer.tokenize(message, "text")
    (annotation,) = message.get("entities")
    assert annotation["start"] in {t.start for t in tokens}
    assert annotation["end"] in {t.end for t in tokens}
    assert [unicodedata.normalize("NFC", t.text) for t in tokens][:4] == [
        "nộp",
        "hồ sơ",
        "cấp",
        "sổ đỏ",
    ]


def test_an_edge_inside_a_syllable_cuts_nothing() -> None:
    # A syllable is the smallest token; an annotation that ends inside one is a data error
    # (tests/engine/test_training_data.py finds it), not something to tokenize around.
    message = Message(
        {"text": "căn cước công dân", "entities": [{"entity": "procedure", "start": 0, "end": 6}]}
    )
    assert words(message) == ["căn cước", "công dân"]


def test_edges_are_read_from_the_text_attribute_only() -> None:
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    message = annotated("hồ sơ cấp sổ đỏ", "cấp sổ đỏ")
    message.set("response", "hồ sơ cấp sổ đỏ")
    assert tokenizer.tokenize(message, "response")[0].text == "hồ sơ cấp"


def test_word_spans_cut_only_between_syllables() -> None:
    text = "hồ sơ cấp sổ đỏ"
    assert word_spans(text, segment=True) == [(0, 9), (10, 15)]
    assert word_spans(text, segment=True, edges=[6]) == [(0, 5), (6, 9), (10, 15)]
    # an edge on the space before "cấp" or right after "sơ" is the same cut
    assert word_spans(text, segment=True, edges=[5]) == [(0, 5), (6, 9), (10, 15)]
    assert word_spans(text, segment=False, edges=[6]) == [
        (0, 2),
        (3, 5),
        (6, 9),
        (10, 12),
        (13, 15),
    ]


# --- known words only: pyvi's guesses that its lexicon does not know are cut ---------------


@pytest.mark.parametrize(
    ("text", "pyvi_word", "known"),
    [
        ("làm mã số thuế cá nhân thế nào vậy", "cá nhân thế nào", ["cá nhân", "thế nào"]),
        ("nộp hồ sơ cấp sổ đỏ ở chi nhánh nào", "hồ sơ cấp", ["hồ sơ", "cấp"]),
        ("le phi dang ky khai sinh la bao nhieu", "phi dang", ["phi", "dang"]),
        ("tu van giup minh ve dang ky thuong tru voi", "ve dang", ["ve", "dang"]),
    ],
)
def test_known_words_only_cuts_words_the_lexicon_does_not_know(
    text: str, pyvi_word: str, known: list[str]
) -> None:
    assert pyvi_word in words(Message({"text": text}))
    tokens = words(Message({"text": text}), known_words_only=True)
    assert pyvi_word not in tokens
    position = tokens.index(known[0])
    assert tokens[position : position + len(known)] == known


def test_known_words_only_keeps_the_words_the_lexicon_knows_with_or_without_diacritics() -> None:
    assert words(Message({"text": "Làm căn cước công dân ở mô rứa?"}), known_words_only=True) == [
        "Làm",
        "căn cước",
        "công dân",
        "ở",
        "mô",
        "rứa",
    ]
    # without diacritics, compared with the lexicon's words folded
    assert "khai sinh" in words(Message({"text": "dang ky khai sinh o dau"}), known_words_only=True)


def test_teencode_in_the_lemma_comes_from_the_one_table() -> None:
    lemmas = {t[0]: t[3] for t in spans("đk hông được, hẻm nhà hồng, so hong")}
    assert lemmas["đk"] == "dang_ky"
    assert lemmas["hông"] == "khong"  # a dialect spelling the table lists
    # Typed with diacritics or ambiguous, a word is not teencode (hẻm, hồng; sổ hồng).
    assert lemmas["hẻm"] == "hem" and lemmas["hồng"] == "hong" and lemmas["hong"] == "hong"
