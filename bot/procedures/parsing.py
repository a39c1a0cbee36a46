"""Parse one record of the national procedure catalogue (dichvucong.gov.vn) into models.

The portal flattens its tables into text with no separator between cells, so the parser
reads them with patterns checked against every record of the catalogue. What it cannot
read with confidence is never guessed: the cell keeps its text with ``parsed=False`` and
the field's text is copied into ``ParsedProcedure.raw``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

# Bump when the parser's output or the search text derived from it changes: the importer
# re-parses and re-indexes every record.
PARSER_VERSION = "2026.3"  # 2026.3: search words from vitext.words (i/y for every onset)

NO_INFO = "Không có thông tin"

Level = Literal["ministry", "province", "commune", "other"]
Unit = Literal["working_days", "days", "hours", "months", "years"]


class Duration(BaseModel):
    """Processing time of one channel.

    ``parsed`` is False when the cell cannot be read (a number without its unit, free text):
    show ``text``. "Không có thông tin" is parsed, with no value.
    """

    value: float | None
    unit: Unit | None
    text: str
    parsed: bool


class FeeItem(BaseModel):
    """One labelled amount found inside a fee cell ("Lệ phí : 400.000 Đồng (…)")."""

    label: str
    amount: int
    currency: str
    text: str


class Fee(BaseModel):
    """Fee of one channel; ``amount`` is set only when ``kind == "amount"``.

    ``kind == "raw"`` (``parsed`` False) when the cell is conditional, lists several amounts,
    or cannot be read: show ``text`` (and the channel description) as they are.
    """

    kind: Literal["free", "amount", "none_info", "raw"]
    amount: int | None = None
    currency: str | None = None
    per: str | None = None
    note: str | None = None
    text: str
    parsed: bool
    # Labelled amounts found in the cell; informative only, the cell stays ``raw``.
    items: list[FeeItem] = Field(default_factory=list)


class Channel(BaseModel):
    kind: Literal["in_person", "online", "post"]
    time: Duration
    fee: Fee
    description: str


class Document(BaseModel):
    section: Literal["submit", "present"] | None
    group: str | None = None  # the heading of the table the row belongs to
    name: str
    form: str | None
    forms: list[str] = Field(default_factory=list)
    quantity: int | None
    originals: int | None = None
    copies: int | None = None
    copy_kind: Literal["original", "copy", "other"] | None
    text: str
    parsed: bool = True


class LegalBasis(BaseModel):
    title: str
    number: str | None


class ParsedProcedure(BaseModel):
    code: str
    name: str
    url: str
    decision: str | None
    levels: list[Level]
    procedure_type: str | None
    field: str | None
    applicants: str | None
    competent_body: str | None
    implementing_body: str | None
    receiving_address: str | None
    delegated_body: str | None
    cooperating_body: str | None
    steps: list[str]
    conditions: str | None
    result: str | None
    results: list[str] = Field(default_factory=list)
    result_description: str | None = None
    channels: list[Channel]
    documents: list[Document]
    legal_bases: list[LegalBasis]
    ministry: str
    raw: dict[str, str]
    # Machine-readable reasons behind ``raw`` ("fee", "time", "channels", "documents", ...).
    problems: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- text


_SPACE = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"))


def clean(text: object) -> str:
    """NFC, no invisible characters, whitespace collapsed to single spaces."""
    value = unicodedata.normalize("NFC", str(text or "")).translate(_INVISIBLE)
    return _SPACE.sub(" ", value).strip()


def _optional(text: object) -> str | None:
    value = clean(text)
    return None if value in ("", NO_INFO) else value


# ----------------------------------------------------------------------- channels

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
_CHANNEL_KINDS: dict[str, Literal["in_person", "online", "post"]] = {
    "Trực tiếp": "in_person",
    "Trực tuyến": "online",
    "Dịch vụ bưu chính": "post",
}
_CHANNEL_NAME = re.compile(r"Trực tiếp|Trực tuyến|Dịch vụ bưu chính")
_UNITS: dict[str, Unit] = {
    "Ngày làm việc": "working_days",
    "Ngày": "days",
    "Giờ": "hours",
    "Tháng": "months",
    "Năm": "years",
}
_TIME = re.compile(r"(\d+(?:[.,]\d+)?) ?(Ngày làm việc|Ngày|Giờ|Tháng|Năm)")
_BARE_NUMBER = re.compile(r"(\d+)(?=Miễn phí|Không có thông tin)")
_CURRENCIES = {"Việt Nam Đồng": "VND", "VNĐ": "VND", "Đồng": "VND", "USD": "USD"}
_AMOUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+) ?(Việt Nam Đồng|VNĐ|USD|Đồng)")
# Digits of the time cell run into the amount ("Trực tuyến120,000 VNĐ"): cannot be split.
_RUN_INTO_AMOUNT = re.compile(r"\d[\d,.]* ?(?:Việt Nam Đồng|VNĐ|USD|Đồng)")
_FEE_TOKEN = re.compile(r"Miễn phí|Không có thông tin|" + _AMOUNT.pattern)
# Notes after "Miễn phí" that confirm there is nothing to pay.
_FREE_NOTES = {
    "",
    "không",
    "không có",
    "không có phí",
    "không thu",
    "không thu phí",
    "không thu lệ phí",
    "không quy định",
    "không phải nộp phí",
    "miễn phí",
    "miễn lệ phí",
}
# A note or description with these words makes the headline amount conditional.
_CONDITIONAL = re.compile(
    r"miễn|giảm|áp dụng|%|trường hợp|đối với|nếu|hoặc|tối thiểu|tối đa|dưới|trên|"
    r"từ ngày|đến hết|đến ngày|kể từ|thêm|mỗi|riêng|chưa|không|tùy|tuỳ|hội đồng nhân dân|"
    r"hđnd|mức thu|mức phí|tỷ|triệu|nghìn|ngàn|\btrừ\b",
    re.IGNORECASE,
)
# A description that talks about fees or amounts: the fee cell alone cannot be trusted.
_FEE_TALK = re.compile(
    r"(?<!chi )\b(?:lệ phí|phí)\b|\d[\d.,]*\s*(?:đồng|đ\b|vnđ|usd)|triệu đồng|nghìn đồng",
    re.IGNORECASE,
)
_LEGAL_REF = re.compile(
    r"(?:\d+(?:\.\d+)?/)?\d{4}/[A-ZĐ][A-ZĐa-z0-9\-]*|ngày \d{1,2}(?:/| tháng )\d{1,2}"
    r"(?:/| năm )\d{4}|\d{1,2}/\d{1,2}/\d{4}|(?:Điều|khoản|Khoản|điểm|Mục|mục|Phụ lục|STT)"
    r" [\dIVXL.]+"
)
_NOTE_AMOUNT = re.compile(
    r"^(?:(?P<label>[^:\d]{1,120}):\s*)?(?P<amount>\d{1,3}(?:[.,]\d{3})+|\d+)\s*"
    r"(?P<cur>đồng|Đồng|đ|VNĐ|vnđ|VND|USD)?\s*/\s*(?:0?1\s+)?(?P<per>[^()\d;:]+?)\s*[.;]?$"
)
_MONEY = re.compile(
    r"(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(?:đồng|Đồng|đ\b|VNĐ|vnđ|VND|USD)", re.IGNORECASE
)
# Words of the title of every fee regulation ("quy định mức thu, chế độ thu, nộp, quản lý và
# sử dụng phí…"): a citation, not a condition.
_GENERIC_FEE_WORDS = re.compile(
    r"mức thu, chế độ thu, nộp,? quản lý(?: và sử dụng)?|chế độ thu, nộp", re.IGNORECASE
)
_PER_BAD = re.compile(r"miễn|giảm|%|áp dụng|từ ngày|đến|hoặc|nếu|đối với", re.IGNORECASE)
_NOTE_PER = re.compile(
    r"^(?:đồng|Đồng|đ|VNĐ|vnđ|VND|USD)?\s*/\s*(?:0?1\s+)?(?P<per>[^()\d;:.]+?)\s*"
    r"(?:\((?P<ref>[^()]*)\))?\s*\.?$"
)
_FEE_ITEM = re.compile(
    r"(?P<label>Lệ phí|Phí)\s*:\s*(?P<amount>\d{1,3}(?:[.,]\d{3})+|\d+)\s*"
    r"(?P<cur>Đồng|đồng|VNĐ|USD)\b"
)


def _closing_paren(text: str, start: int) -> int | None:
    """Index just past the parenthesis group opening at ``start``; None if unbalanced."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _take_note(text: str, pos: int) -> tuple[str | None, int, bool]:
    """A parenthesised note right after a fee token: (note, end, balanced)."""
    if pos < len(text) and text[pos] == "(":
        end = _closing_paren(text, pos)
        if end is None:
            return text[pos + 1 :], len(text), False
        return text[pos + 1 : end - 1].strip(), end, True
    return None, pos, True


def _number(text: str) -> int:
    return int(re.sub(r"[.,]", "", text))


def _fee_items(text: str) -> list[FeeItem]:
    return [
        FeeItem(
            label=m["label"],
            amount=_number(m["amount"]),
            currency=_CURRENCIES.get(m["cur"], "VND"),
            text=m.group(0),
        )
        for m in _FEE_ITEM.finditer(text)
    ]


def _raw_fee(text: str) -> Fee:
    return Fee(kind="raw", text=text, parsed=False, items=_fee_items(text))


def _free_fee(text: str, note: str | None, description: str) -> Fee:
    key = (note or "").strip(" .;()").lower()
    if key in _FREE_NOTES and not _FEE_TALK.search(description):
        return Fee(kind="free", text=text, parsed=True, note=note or None)
    return _raw_fee(text)


def _description_agrees(description: str, amount: int) -> bool:
    """A description may repeat the amount ("…: 10.000 đồng/trường hợp"), not change it."""
    if not _FEE_TALK.search(description):
        return True
    amounts = [_number(m[1]) for m in _MONEY.finditer(description)]
    return (
        bool(amounts)
        and all(a == amount for a in amounts)
        and not re.search(r"miễn|giảm|áp dụng|%|lệ phí|phí\s*:", description, re.IGNORECASE)
    )


def _is_conditional(text: str) -> bool:
    core = _GENERIC_FEE_WORDS.sub(" ", _LEGAL_REF.sub(" ", text))
    return bool(_CONDITIONAL.search(core))


def _amount_fee(text: str, amount: int, currency: str, note: str | None, description: str) -> Fee:
    """An amount is kept only when its note restates it or names a unit, never a condition."""
    per: str | None = None
    if not _description_agrees(description, amount):
        return _raw_fee(text)
    if note:
        per_match = _NOTE_PER.match(note)
        amount_match = _NOTE_AMOUNT.match(note)
        if per_match:
            if _PER_BAD.search(per_match["per"]) or _is_conditional(per_match["ref"] or ""):
                return _raw_fee(text)
            per = per_match["per"].strip()
        elif amount_match:
            restated = _number(amount_match["amount"])
            cur = amount_match["cur"]
            if _is_conditional(amount_match["label"] or "") or _PER_BAD.search(amount_match["per"]):
                return _raw_fee(text)
            if cur is not None and (cur == "USD") != (currency == "USD"):
                return _raw_fee(text)
            if restated == amount * 1000 and currency == "VND" and amount < 1000:
                # The portal shows thousands of đồng: "100 VNĐ(100.000 đồng/lần)".
                amount = restated
            elif restated != amount:
                return _raw_fee(text)
            per = amount_match["per"].strip()
        elif _is_conditional(note) or re.search(r"\d", _LEGAL_REF.sub(" ", note)):
            return _raw_fee(text)
    if currency == "VND" and amount < 1000:
        return _raw_fee(text)
    return Fee(
        kind="amount",
        amount=amount,
        currency=currency,
        per=per,
        note=note or None,
        text=text,
        parsed=True,
    )


def _parse_time(body: str) -> tuple[Duration, int]:
    """The time cell at the start of a row: (duration, where the fee cell starts).

    When the time digits run into the amount ("Trực tuyến120,000 VNĐ") the fee cell starts
    at 0 and the duration's text is the run of digits.
    """
    if m := _TIME.match(body):
        value = float(m[1].replace(",", "."))
        return Duration(value=value, unit=_UNITS[m[2]], text=m.group(0), parsed=True), m.end()
    if body.startswith(NO_INFO):
        return Duration(value=None, unit=None, text=NO_INFO, parsed=True), len(NO_INFO)
    if m := _BARE_NUMBER.match(body):
        # A number without its unit ("Trực tuyến1Miễn phí"): never guess the unit.
        return Duration(value=None, unit=None, text=m[1], parsed=False), m.end()
    if m := _RUN_INTO_AMOUNT.match(body):
        # "Trực tuyến120,000 VNĐ": which digits are the time cannot be known.
        digits = re.match(r"[\d,.]+", m.group(0))
        return Duration(
            value=None, unit=None, text=digits.group(0) if digits else "", parsed=False
        ), 0
    token = _FEE_TOKEN.search(body)  # free text ("Không quy định", "Không phải trả kết quả…")
    end = token.start() if token else len(body)
    return Duration(value=None, unit=None, text=body[:end].strip(), parsed=False), end


def _parse_fee(rest: str) -> tuple[Fee, str, bool]:
    """The fee cell at the start of ``rest``: (fee, description, whether the cell was found)."""
    if rest.startswith(NO_INFO):
        return Fee(kind="none_info", text=NO_INFO, parsed=True), rest[len(NO_INFO) :], True
    if rest.startswith("Miễn phí"):
        note, end, balanced = _take_note(rest, len("Miễn phí"))
        description = rest[end:]
        if not balanced:
            return _raw_fee(rest[:end]), description, True
        return _free_fee(rest[:end], note, description), description, True
    if m := _RUN_INTO_AMOUNT.match(rest):
        note, end, balanced = _take_note(rest, m.end())
        description = rest[end:]
        amount = _AMOUNT.fullmatch(m.group(0))
        if not balanced or amount is None:
            return _raw_fee(rest[:end]), description, True
        currency = _CURRENCIES[amount[2]]
        fee = _amount_fee(rest[:end], _number(amount[1]), currency, note, description)
        return fee, description, True
    return _raw_fee(rest), "", False


def _parse_channel_row(name: str, body: str) -> tuple[Channel, bool]:
    """One row (the text after the channel name): the channel and whether its cells were found."""
    time, pos = _parse_time(body)
    fee, description, found = _parse_fee(body[pos:])
    if pos == 0 and not time.parsed and time.text:
        # The time digits ran into the amount: the whole "120,000 VNĐ(…)" stays raw.
        fee = _raw_fee(fee.text)
    channel = Channel(
        kind=_CHANNEL_KINDS[name], time=time, fee=fee, description=description.strip()
    )
    return channel, found


def parse_channels(text: str) -> tuple[list[Channel], list[str]]:
    """Rows of ``cach_thuc_thuc_hien``; the second value lists what was not parsed."""
    text = clean(text)
    if text in ("", NO_INFO, CHANNEL_HEADER):
        return [], []
    if not text.startswith(CHANNEL_HEADER):
        return [], ["channels"]
    body = text[len(CHANNEL_HEADER) :]
    # A row starts with a channel name glued to its time cell ("Trực tuyến7 Ngày…",
    # "Trực tiếpKhông có thông tin"); "- Trực tuyến: nộp…" in a description is not a row.
    starts = [
        m
        for m in _CHANNEL_NAME.finditer(body)
        if m.start() == 0
        or (m.end() < len(body) and (body[m.end()].isdigit() or body[m.end()].isupper()))
    ]
    if not starts or starts[0].start() != 0:
        return [], ["channels"]
    problems: list[str] = []
    channels: list[Channel] = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(body)
        channel, found = _parse_channel_row(match.group(0), body[match.end() : end])
        channels.append(channel)
        if not found:
            problems.append("channels")
        if not channel.time.parsed:
            problems.append("time")
        if not channel.fee.parsed:
            problems.append("fee")
    return channels, sorted(set(problems))


# ---------------------------------------------------------------------- documents

DOCUMENT_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
# The quantity cell ends a row: "1 bản chính" or "0 bản chính,1 bản sao" (see _ends_row).
_QUANTITY = re.compile(r"(?<!\d)(\d+) bản chính(?:,(\d+) bản sao)?")
# After a space, only a single-digit quantity glued to its name ends a row ("…;1 bản chính
# (2). Đối với…"); "nộp 02 bản chính Danh mục…" is part of a name.
_AFTER_SPACE_ROW = re.compile(r"\s+[(\-+*\dA-ZÀ-ỸĐ]")
_FORM_EXT = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar)$", re.IGNORECASE)
_FORM_EXT_ANY = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar)(?=\S)", re.IGNORECASE)
# How attached form files are usually named.
_FORM_START = re.compile(
    r"Mẫu|Mau|MẪU|MAU|mẫu số|mau so|Phụ lục|Phu luc|PHỤ LỤC|Phlc|PL ?\d|Mus\d|Ms\d|Biểu mẫu|"
    r"Bieu mau|Tờ khai|To khai"
)
_BULLET = re.compile(r"^(?:[-+*•–]+\s*)+")


def _ends_row(text: str, match: re.Match[str]) -> bool:
    """Whether a quantity match is the quantity cell of a row (not words inside a name)."""
    end = match.end()
    if end == len(text):
        return True
    following = text[end]
    if following.isspace():
        digits = match[1]
        glued = match.start() > 0 and not text[match.start() - 1].isspace()
        return (
            len(digits) == 1
            and glued
            and text[match.start() - 1] != "("
            and bool(_AFTER_SPACE_ROW.match(text, end))
        )
    if following in ",;.:)":
        return False
    return not re.match(r"\d+ bản chính", text[end:])


_PRESENT = re.compile(
    r"(?:giấy tờ|chứng từ) phải xuất trình|phải xuất trình (?:các )?giấy tờ|^[*\-\s]*xuất trình",
    re.IGNORECASE,
)
_SUBMIT = re.compile(r"(?:giấy tờ|chứng từ) phải nộp|phải nộp (?:các )?giấy tờ", re.IGNORECASE)


def _section(heading: str | None) -> Literal["submit", "present"] | None:
    """Section named by a table heading ("* Giấy tờ phải nộp:", "…phải xuất trình:")."""
    if not heading:
        return None
    present, submit = bool(_PRESENT.search(heading)), bool(_SUBMIT.search(heading))
    if present == submit:
        return None
    return "present" if present else "submit"


def _glue_points(text: str, start: int, end: int) -> list[int]:
    """Positions where a new cell may start with no space: "…nhận.Mẫu", "…BộMau"."""
    points = []
    for i in range(max(start, 1), end):
        before, char = text[i - 1], text[i]
        if before.isspace() or char.isspace():
            continue
        ahead = text[i - 2] if i >= 2 else " "
        if (
            (before in ".;:)" and char.isupper())
            or (before in ".;:)" and char.isdigit() and (ahead.islower() or ahead in ")]"))
            or (before.islower() and char.isupper())
        ):
            points.append(i)
    return points


def _split_forms(row: str) -> tuple[str, list[str], bool]:
    """Split trailing form file names off a row: (name, forms, confident)."""
    forms: list[str] = []
    rest = row
    while _FORM_EXT.search(rest):
        ext = _FORM_EXT.search(rest)
        assert ext is not None
        # The previous file name ends where another extension ends inside the row.
        previous = [m.end() for m in _FORM_EXT_ANY.finditer(rest, 0, ext.start())]
        floor = previous[-1] if previous else 0
        points = _glue_points(rest, 0, ext.start())
        tokens = [
            m.start()
            for m in _FORM_START.finditer(rest, 1, ext.start())
            if (rest[m.start() - 1].isalnum() or rest[m.start() - 1] in ".;:)")
            and (m.group(0)[0].isupper() or rest[m.start() - 1] in ".;")
        ]
        candidates = sorted(set(points) | set(tokens))
        if floor:
            start = floor  # file names glued one after the other
        elif len(candidates) == 1 and (
            tokens or (", " not in rest[candidates[0] :] and ext.start() - candidates[0] <= 80)
        ):
            start = candidates[0]
        elif tokens:
            start = tokens[0]  # "…Nghị định số 08/2021/NĐ-CPMẫu Đơn đề nghị….docx"
        else:
            return row, [], False
        forms.insert(0, rest[start:].strip())
        rest = rest[:start]
    return rest.strip(), forms, True


def _document(row: str, originals: int, copies: int | None, group: str | None) -> Document:
    name, forms, confident = _split_forms(row)
    name = _BULLET.sub("", name).strip()
    if copies and originals:
        copy_kind: Literal["original", "copy", "other"] | None = "other"
        quantity: int | None = None
    elif copies:
        copy_kind, quantity = "copy", copies
    elif originals:
        copy_kind, quantity = "original", originals
    else:
        copy_kind, quantity = None, 0
    text = row + f"{originals} bản chính" + (f",{copies} bản sao" if copies is not None else "")
    return Document(
        section=_section(group),
        group=group,
        name=name,
        form=forms[0] if forms else None,
        forms=forms,
        quantity=quantity,
        originals=originals,
        copies=copies,
        copy_kind=copy_kind,
        text=text,
        parsed=confident and bool(name),
    )


def parse_documents(text: str) -> tuple[list[Document], list[str]]:
    """Rows of ``thanh_phan_ho_so``; the second value lists what was not parsed."""
    text = clean(text)
    if text in ("", NO_INFO) or set(text) <= {"-"}:
        return [], []
    parts = text.split(DOCUMENT_HEADER)
    if len(parts) == 1:
        return [], ["documents"]
    documents: list[Document] = []
    problems: list[str] = []
    heading: str | None = parts[0].strip()
    for index, part in enumerate(parts[1:], 1):
        group = None if not heading or set(heading) <= {"-"} else heading
        part = part.strip()
        pos = 0
        for m in _QUANTITY.finditer(part):
            if m.start() < pos or not _ends_row(part, m):
                continue
            row = part[pos : m.start()]
            digits = m[1]
            if len(digits) > 1:
                # Quantities are single digits: "…Mẫu số 181 bản chính" is "Mẫu số 18" + 1.
                row, digits = row + digits[:-1], digits[-1]
            documents.append(
                _document(row, int(digits), int(m[2]) if m[2] is not None else None, group)
            )
            pos = m.end()
        trailing = part[pos:].strip(" -")
        if index < len(parts) - 1:
            heading = trailing
        elif trailing:
            problems.append("documents")
        if pos == 0 and part.strip():
            problems.append("documents")
    if any(not d.parsed for d in documents):
        problems.append("document_row")
    return documents, sorted(set(problems))


# -------------------------------------------------------------------- legal bases

LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
_AGENCIES = {
    "CP", "TTg", "TTG", "BTC", "NHNN", "BNNMT", "BCA", "BTP", "BGTVT", "BNNPTNT", "BXD",
    "BTNMT", "BLĐTBXH", "BKHĐT", "UBND", "BKHCN", "BNG", "LLTP", "HĐND", "BNV", "BCT",
    "BVHTTDL", "BYT", "BQP", "BHXH", "VPQH", "VPCP", "BTTTT", "BGDĐT", "TANDTC", "VKSNDTC",
    "KTNN", "UBCKNN", "TCHQ", "TCT", "UBDT", "BNTMT", "NNMT", "CTN", "NĐ", "QĐ", "TT",
}  # fmt: skip
_SYMBOL_PART = r"(?:TTg|[A-ZĐ]*QH\d{2}|[A-ZĐ]+)"
# "105/2021/NĐ-CP", "66.7/2025/NQ-CP", "2222/QĐ-BHXH", or a bare "46/2020" before a title.
# It may follow a symbol or a year the title ends with: "…QH1354/2014/QH13", "Luật Công
# chứng năm 202446/2024/QH15".
_DOC_NUMBER = re.compile(
    r"(?:(?<![/\d])|(?<=QH\d\d)|(?<=\D(?:19|20)\d\d))\d{1,5}(?:\.\d+)?/"
    rf"(?:(?:\d{{4}}/)?{_SYMBOL_PART}(?:-{_SYMBOL_PART})*|\d{{4}}(?=$|[A-ZÀ-ỸĐ][a-zà-ỹđ]))"
)
_NUMBER_PREFIX = re.compile(
    r"(?:(?:Luật|Luất|Thông tư liên tịch|Thông tư|Nghị định|Nghị quyết|Quyết định|Pháp lệnh|"
    r"Chỉ thị|Văn bản hợp nhất)\s*(?:số\s*)?|[Ss]ố\s*)$"
)


# Words that go on a title right after its number ("…/TT-BCAngày 01/7/2025").
_CONTINUATION = re.compile(r"(?:ngày|của|năm|tháng)\b")
# A title made only of a document type and a space before the number.
_BARE_PREFIX = re.compile(
    r"(?:Luật|Thông tư liên tịch|Thông tư|Nghị định|Nghị quyết|Quyết định|Pháp lệnh|Chỉ thị)"
    r"(?:\s+số)?\s+"
)


_RUN_ON_TITLE = re.compile(r"(?<!\d)[;.]\s*\d+[-/][A-ZĐ\d]|\d[A-ZÀ-ỸĐ][a-zà-ỹđ]")


def _trim_number(text: str, start: int, end: int) -> int:
    """End of a document number whose symbol may have swallowed the next title's capitals."""
    number = text[start:end]
    last = re.split(r"[-/]", number)[-1]
    if last in _AGENCIES or re.fullmatch(r"[A-ZĐ]*QH\d{2}", last) or last == "TTg":
        return end
    for size in range(len(last) - 1, 1, -1):
        if last[:size] in _AGENCIES:
            return end - (len(last) - size)
    if len(last) == 1 and number.endswith("-" + last):
        return end - 2  # "166/2016/NĐ-CP-Quy định…"
    if end < len(text) and text[end].islower() and len(last) > 2:
        return end - 1
    return end


def parse_legal_bases(text: str) -> tuple[list[LegalBasis], list[str]]:
    """Pairs of ``can_cu_phap_ly``: title, then the number cell glued on."""
    text = clean(text)
    if text in ("", NO_INFO, LEGAL_HEADER):
        return [], []
    if not text.startswith(LEGAL_HEADER):
        return [], ["legal_bases"]
    body = text[len(LEGAL_HEADER) :]
    bases: list[LegalBasis] = []
    problems: list[str] = []
    pair_start = 0
    for m in _DOC_NUMBER.finditer(body):
        if m.start() < pair_start:
            continue
        end = _trim_number(body, m.start(), m.end())
        after = body[end : end + 1]
        before = body[m.start() - 1 : m.start()]
        if after.isspace():
            # "…ngân hàng.24/2026/NQ-CP Thông tư…": a number cell glued to its title, then a
            # space; numbers inside a title follow a space ("Nghị định số 24/2026/NQ-CP ngày").
            if before in ("", "(") or before.isspace():
                continue
        elif after.isdigit():
            # Two numbers glued: "Nghị định 105/2021/NĐ-CP105/2021/NĐ-CP" ends a title with
            # its number; "…Khoáng sản54/2024/QH15193/2025/NĐ-CP" is a cell, then a title.
            following = _DOC_NUMBER.match(body, end)
            number = body[m.start() : end]
            if following is None or following.group(0).startswith(number):
                continue
            if before.isspace() or before in ("", "("):
                continue
        elif after and after in ",;.:)/":
            continue  # a number inside the title
        elif _CONTINUATION.match(body, end):
            continue  # "Thông tư số 53/2025/TT-BCAngày 01/7/2025…": the title goes on
        title = body[pair_start : m.start()]
        if _BARE_PREFIX.fullmatch(title):
            continue  # "Thông tư số 53/2025/TT-BCA…": the number is the title's own
        prefix = _NUMBER_PREFIX.search(title)
        if prefix and prefix.start() > 0 and not title[prefix.start() - 1].isspace():
            title = title[: prefix.start()]
        title = title.strip()
        if not title:
            continue  # the title itself is a number ("73/2025/TT-NHNNSố 73/2025/TT-NHNN")
        pair_start = end
        if _RUN_ON_TITLE.search(title):
            # "…(Luật số 84/2015/QH13…); 84/2015/QH13 nghị quyết…", "…202206Quy định…":
            # a number cell with the next title run on. Not kept: it would be wrong.
            problems.append("legal_bases")
            continue
        bases.append(LegalBasis(title=title, number=body[m.start() : end]))
    if body[pair_start:].strip():
        problems.append("legal_bases")
    return bases, sorted(set(problems))


# ------------------------------------------------------------------------- result

# A result code has no space and is glued to the next result or to "Từ khóa".
_RESULT_CODE = re.compile(
    r"Mã: ?\S+?(?=Từ khóa|[A-ZÀ-ỸĐ][a-zà-ỹđ]|[-+]\s|$|(?<=\d)[a-zà-ỹđA-ZÀ-ỸĐ])"
)
_PORTAL_UI = re.compile(r"(?:Chọn cơ quan thực hiện.*)?(?:Nộp hồ sơ)?$")


def parse_result(text: str) -> tuple[list[str], str | None, bool]:
    """Result documents of ``ket_qua_xu_ly`` without the portal UI: (results, note, clean)."""
    value = clean(text)
    value = _PORTAL_UI.sub("", value) if "Chọn cơ quan thực hiện" in value else value
    value = re.sub(r"Nộp hồ sơ$", "", value).strip()
    description: str | None = None
    if value in ("", NO_INFO):
        return [], None, True
    if "Mã:" not in value:
        return [], None, False  # no result code: not the portal's result list
    keyword = value.rfind("Từ khóa")
    if keyword >= 0:
        tail = value[keyword:]
        value = value[:keyword]
        described = tail.find("Mô tả")
        if described >= 0:
            description = _optional(tail[described + len("Mô tả") :])
    pieces = [p.strip(" -+") for p in _RESULT_CODE.split(value)]
    results = [p for p in pieces if p and p != NO_INFO]
    ok = bool(results) and not any(
        marker in r for r in results for marker in ("Mã:", "Từ khóa", "Mô tả", "Chọn cơ quan")
    )
    return results, description, ok


# -------------------------------------------------------------------------- steps

_STEP_START = re.compile(r"^(?:[-–]\s*)?Bước\s*\d+", re.IGNORECASE)


def parse_steps(text: str) -> list[str]:
    """Steps of ``trinh_tu_thuc_hien``: by "Bước N" when present, else one per line."""
    lines = [clean(line) for line in unicodedata.normalize("NFC", str(text or "")).splitlines()]
    lines = [line for line in lines if line and line != NO_INFO]
    if sum(1 for line in lines if _STEP_START.match(line)) >= 2:
        steps: list[str] = []
        for line in lines:
            if _STEP_START.match(line) or not steps:
                steps.append(_BULLET.sub("", line) or line)
            else:
                steps[-1] = f"{steps[-1]} {line}"
        return steps
    return [_BULLET.sub("", line).strip() or line for line in lines]


# ------------------------------------------------------------------------- record

_LEVELS: dict[str, Level] = {
    "cấp bộ": "ministry",
    "cấp tỉnh": "province",
    "cấp xã": "commune",
    "cơ quan khác": "other",
}


def parse_levels(text: str) -> tuple[list[Level], bool]:
    levels: list[Level] = []
    ok = True
    for part in clean(text).split(","):
        key = part.strip().lower()
        if not key:
            continue
        if key in _LEVELS:
            if _LEVELS[key] not in levels:
                levels.append(_LEVELS[key])
        else:
            ok = False
    return levels, ok


def parse_record(record: Mapping[str, Any]) -> ParsedProcedure:
    """Parse one catalogue record (the fields of dvc-procedures.jsonl)."""
    raw: dict[str, str] = {}
    problems: list[str] = []

    channels, channel_problems = parse_channels(record.get("cach_thuc_thuc_hien", ""))
    if channel_problems:
        raw["cach_thuc_thuc_hien"] = clean(record.get("cach_thuc_thuc_hien"))
        problems += channel_problems
    documents, document_problems = parse_documents(record.get("thanh_phan_ho_so", ""))
    if document_problems:
        raw["thanh_phan_ho_so"] = clean(record.get("thanh_phan_ho_so"))
        problems += document_problems
    bases, legal_problems = parse_legal_bases(record.get("can_cu_phap_ly", ""))
    if legal_problems:
        raw["can_cu_phap_ly"] = clean(record.get("can_cu_phap_ly"))
        problems += legal_problems
    results, result_description, result_ok = parse_result(record.get("ket_qua_xu_ly", ""))
    if not result_ok:
        raw["ket_qua_xu_ly"] = clean(record.get("ket_qua_xu_ly"))
        problems.append("result")
    levels, levels_ok = parse_levels(record.get("cap_thuc_hien", ""))
    if not levels_ok:
        raw["cap_thuc_hien"] = clean(record.get("cap_thuc_hien"))
        problems.append("levels")

    return ParsedProcedure(
        code=clean(record.get("ma_thu_tuc")),
        name=clean(record.get("ten_thu_tuc")),
        url=clean(record.get("detail_url")),
        decision=_optional(record.get("so_quyet_dinh")),
        levels=levels,
        procedure_type=_optional(record.get("loai_thu_tuc")),
        field=_optional(record.get("linh_vuc")),
        applicants=_optional(record.get("doi_tuong_thuc_hien")),
        competent_body=_optional(record.get("co_quan_co_tham_quyen")),
        implementing_body=_optional(record.get("co_quan_thuc_hien")),
        receiving_address=_optional(record.get("dia_chi_tiep_nhan")),
        delegated_body=_optional(record.get("co_quan_duoc_uy_quyen")),
        cooperating_body=_optional(record.get("co_quan_phoi_hop")),
        steps=parse_steps(record.get("trinh_tu_thuc_hien", "")),
        conditions=_optional(record.get("yeu_cau_dieu_kien")),
        result="\n".join(results) or None,
        results=results,
        result_description=result_description,
        channels=channels,
        documents=documents,
        legal_bases=bases,
        ministry=clean(record.get("ministry_folder")),
        raw=raw,
        problems=sorted(set(problems)),
    )


# ----------------------------------------------------------------------- coverage


def _share(count: int, of: int) -> float:
    return round(count / of, 4) if of else 1.0


def _coverage_of(group: list[ParsedProcedure]) -> dict[str, Any]:
    cells = [c for p in group for c in p.channels]
    rows = [d for p in group for d in p.documents]
    total = len(group)

    def records_without(*problems: str) -> float:
        return _share(sum(not set(problems) & set(p.problems) for p in group), total)

    return {
        "records": total,
        "channels": records_without("channels"),
        "times": records_without("channels", "time"),
        "fees": records_without("channels", "fee"),
        "documents": records_without("documents", "document_row"),
        "legal_bases": records_without("legal_bases"),
        "result": records_without("result"),
        "fully_parsed": _share(sum(not p.raw for p in group), total),
        "time_cells": _share(sum(c.time.parsed for c in cells), len(cells)),
        "fee_cells": _share(sum(c.fee.parsed for c in cells), len(cells)),
        "document_rows": _share(sum(d.parsed for d in rows), len(rows)),
    }


def coverage(parsed: Iterable[ParsedProcedure]) -> dict[str, Any]:
    """Share of records whose channels, times, fees, documents… were fully parsed.

    Record shares are per field (``"fees": 0.77`` = 77% of records have every fee cell
    parsed); ``*_cells``/``document_rows`` are shares of cells; ``per_ministry`` repeats
    the figures for each ``ministry_folder``; ``fee_kinds``/``time_units`` count cells.
    """
    items = list(parsed)
    result = _coverage_of(items)
    cells = [c for p in items for c in p.channels]
    result["fee_kinds"] = dict(Counter(c.fee.kind for c in cells).most_common())
    result["time_units"] = dict(
        Counter(
            (c.time.unit or ("none_info" if c.time.parsed else "raw")) for c in cells
        ).most_common()
    )
    result["per_ministry"] = {
        ministry: _coverage_of([p for p in items if p.ministry == ministry])
        for ministry in sorted({p.ministry for p in items})
    }
    return result
