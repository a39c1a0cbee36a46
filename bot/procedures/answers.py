"""Short, mobile-friendly Vietnamese answers about one procedure, for the aspect asked.

Every answer leads with the official name and code and ends with the official link and when
the catalogue was retrieved. Only catalogue facts are stated; a cell the parser could not
read is quoted as the catalogue wrote it, and missing information is said to be missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

import yaml

from bot.procedures.models import Procedure
from bot.procedures.places import ANY_COMMUNE, hue_offices
from bot.settings import ROOT

MAX_DOCUMENTS = 5
MAX_STEPS = 6
MAX_ITEM_CHARS = 220
MAX_TEXT_CHARS = 600


class Aspect(StrEnum):
    OVERVIEW = "overview"
    DOCUMENTS = "documents"
    FEE = "fee"
    TIME = "time"
    PLACE = "place"
    ONLINE = "online"
    STEPS = "steps"
    CONDITIONS = "conditions"


# The Rasa intent that asks for each aspect (used in button payloads).
ASPECT_INTENTS = {
    Aspect.OVERVIEW: "ask_procedure",
    Aspect.DOCUMENTS: "ask_procedure_documents",
    Aspect.FEE: "ask_procedure_fee",
    Aspect.TIME: "ask_procedure_time",
    Aspect.PLACE: "ask_procedure_place",
    Aspect.ONLINE: "ask_procedure_online",
    Aspect.STEPS: "ask_procedure_steps",
    Aspect.CONDITIONS: "ask_procedure_conditions",
}
ASPECT_BUTTONS = {
    Aspect.DOCUMENTS: "Giấy tờ cần nộp",
    Aspect.FEE: "Lệ phí",
    Aspect.TIME: "Thời gian giải quyết",
    Aspect.PLACE: "Nộp ở đâu",
    Aspect.ONLINE: "Nộp trực tuyến",
    Aspect.STEPS: "Các bước",
    Aspect.CONDITIONS: "Điều kiện",
}
CHANNEL_LABELS = {"in_person": "Trực tiếp", "online": "Trực tuyến", "post": "Qua bưu chính"}
UNIT_LABELS = {
    "working_days": "ngày làm việc",
    "days": "ngày",
    "hours": "giờ",
    "months": "tháng",
    "years": "năm",
}
COPY_LABELS = {"original": "bản chính", "copy": "bản sao"}
LEVEL_LABELS = {"ministry": "cấp bộ", "province": "cấp tỉnh/thành phố", "commune": "cấp xã"}


@dataclass
class Button:
    title: str
    payload: str


@dataclass
class Answer:
    text: str
    buttons: list[Button] = field(default_factory=list)


def payload(aspect: Aspect, code: str, **extra: str) -> str:
    values = {"procedure_code": code, **extra}
    return f"/{ASPECT_INTENTS[aspect]}{json.dumps(values, ensure_ascii=False)}"


def _short(text: str, limit: int = MAX_ITEM_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:") + "…"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}".replace(".", ",")


CURRENCY_LABELS = {"VND": "đồng", "USD": "USD"}


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def format_time(time: dict[str, Any]) -> str:
    if time.get("parsed") and time.get("value") is not None and time.get("unit") in UNIT_LABELS:
        return f"{_number(time['value'])} {UNIT_LABELS[time['unit']]}"
    text = (time.get("text") or "").strip()
    if not text or text.lower() == "không có thông tin":
        return "không có thông tin"
    return f"«{_short(text, 160)}» (theo nguyên văn danh mục)"


def format_fee(fee: dict[str, Any]) -> str:
    kind = fee.get("kind")
    if fee.get("parsed") and kind == "free":
        return "miễn phí"
    if fee.get("parsed") and kind == "amount" and fee.get("amount") is not None:
        per = f"/{fee['per']}" if fee.get("per") else ""
        # The currency the catalogue gives: visas and foreigners' papers are priced in USD
        # (issue 15: "10 USD/người" had been shown as "10 đồng/người").
        unit = CURRENCY_LABELS.get(fee.get("currency") or "VND", fee.get("currency"))
        return f"{_money(int(fee['amount']))} {unit}{per}"
    if kind == "none_info" or not (fee.get("text") or "").strip():
        return "không có thông tin"
    return f"«{_short(fee['text'], 200)}» (theo nguyên văn danh mục)"


def _is_special_case(doc: dict[str, Any]) -> bool:
    name = (doc.get("name") or "").strip().lower()
    return name.startswith(("trường hợp", "đối với trường hợp", "nếu ")) or not doc.get("quantity")


def _document_line(doc: dict[str, Any]) -> str:
    details = []
    if doc.get("quantity") and doc.get("copy_kind") in COPY_LABELS:
        details.append(f"{doc['quantity']} {COPY_LABELS[doc['copy_kind']]}")
    if doc.get("form"):
        details.append(f"mẫu: {_short(doc['form'], 60)}")
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"• {_short(doc.get('name') or doc.get('text') or '')}{suffix}"


@lru_cache(maxsize=1)
def _commune_types() -> dict[str, str]:
    raw = yaml.safe_load((ROOT / "data" / "catalog" / "communes.yml").read_text("utf-8"))
    return {c["name"]: c["type"] for c in raw["communes"]}


def commune_label(commune: str | None) -> str | None:
    """'phường Thuận Hóa' for a commune's current name; None for anything else."""
    if not commune:
        return None
    kind = _commune_types().get(commune)
    return f"{kind} {commune}" if kind else None


class AnswerBuilder:
    """Builds the answer for one procedure row (its parsed data) and one aspect."""

    def __init__(self, procedure: Procedure, commune: str | None = None) -> None:
        self.p = procedure
        self.data: dict[str, Any] = procedure.data
        self.commune = commune_label(commune)

    def build(self, aspect: Aspect, full: bool = False) -> Answer:
        body, buttons = getattr(self, f"_{aspect.value}")(full)
        text = f"📄 {self.p.name}\nMã thủ tục: {self.p.code}\n\n{body}\n\n{self._source()}"
        others = [a for a in ASPECT_BUTTONS if a is not aspect][:4]
        buttons += [Button(ASPECT_BUTTONS[a], payload(a, self.p.code)) for a in others]
        return Answer(text=text, buttons=buttons)

    def _source(self) -> str:
        retrieved = self.p.source_retrieved
        when = (
            f" (dữ liệu thu thập năm {retrieved})"
            if retrieved.isdigit()
            else (f" (dữ liệu thu thập {retrieved})" if retrieved else "")
        )
        return f"Nguồn: {self.p.source_name}{when}\n{self.p.url}"

    def _channels(self) -> list[dict[str, Any]]:
        return list(self.data.get("channels") or [])

    # -- aspects -------------------------------------------------------------------------

    def _overview(self, full: bool) -> tuple[str, list[Button]]:
        lines = []
        offices = self._offices()
        if offices:
            lines.append(f"Nơi giải quyết ở Huế: {offices}.")
        channels = self._channels()
        if channels:
            lines.append("Cách nộp, thời gian, lệ phí:")
            lines += [self._channel_line(c, time=True, fee=True) for c in channels]
        documents = self.data.get("documents") or []
        if documents:
            lines.append(f"Hồ sơ gồm {len(documents)} loại giấy tờ (bấm «Giấy tờ cần nộp»).")
        return "\n".join(lines) or "Danh mục không có thêm thông tin tóm tắt.", []

    def _documents(self, full: bool) -> tuple[str, list[Button]]:
        documents = self.data.get("documents") or []
        if not documents:
            raw = (self.data.get("raw") or {}).get("thanh_phan_ho_so")
            if raw:
                quoted = _short(raw, MAX_TEXT_CHARS)
                return f"Thành phần hồ sơ (nguyên văn danh mục):\n«{quoted}»", []
            return "Danh mục không ghi thành phần hồ sơ cho thủ tục này.", []
        # Papers everyone needs first; those only for a special case ("Trường hợp…") after.
        documents = sorted(documents, key=_is_special_case)
        shown = documents if full else documents[:MAX_DOCUMENTS]
        submit = [d for d in shown if d.get("section") != "present"]
        present = [d for d in shown if d.get("section") == "present"]
        lines = ["Giấy tờ cần nộp:"] if submit else []
        lines += [_document_line(d) for d in submit]
        if present:
            lines.append("Giấy tờ cần xuất trình:")
            lines += [_document_line(d) for d in present]
        buttons = []
        rest = len(documents) - len(shown)
        if rest > 0:
            lines.append(f"… và {rest} giấy tờ khác.")
            buttons.append(
                Button(
                    f"Xem đủ {len(documents)} giấy tờ",
                    payload(Aspect.DOCUMENTS, self.p.code, detail="all"),
                )
            )
        return "\n".join(lines), buttons

    def _fee(self, full: bool) -> tuple[str, list[Button]]:
        channels = self._channels()
        if not channels:
            return "Danh mục không ghi lệ phí cho thủ tục này.", []
        return "Lệ phí:\n" + "\n".join(self._channel_line(c, fee=True) for c in channels), []

    def _time(self, full: bool) -> tuple[str, list[Button]]:
        channels = self._channels()
        if not channels:
            return "Danh mục không ghi thời hạn giải quyết cho thủ tục này.", []
        lines = [self._channel_line(c, time=True) for c in channels]
        return "Thời hạn giải quyết:\n" + "\n".join(lines), []

    def _place(self, full: bool) -> tuple[str, list[Button]]:
        lines = []
        offices = self._offices()
        levels = list(self.data.get("levels") or [])
        where = self.commune or ANY_COMMUNE
        if offices:
            lines.append(f"Ở Huế, bạn nộp hồ sơ tại: {offices}.")
        elif "commune" in levels:
            lines.append(f"Thủ tục này giải quyết ở cấp xã: bạn nộp tại {where}.")
        elif "province" in levels:
            lines.append("Thủ tục này giải quyết ở cấp tỉnh, tức là cấp thành phố Huế.")
        if ANY_COMMUNE in "\n".join(lines):
            lines.append("Cho mình biết phường/xã của bạn để mình ghi rõ hơn.")
        body = self.data.get("implementing_body")
        if body:
            lines.append(f"Cơ quan thực hiện theo danh mục: {_short(body)}.")
        address = self.data.get("receiving_address")
        if address:
            lines.append(f"Địa chỉ tiếp nhận theo danh mục: {_short(address)}.")
        labels = [LEVEL_LABELS[x] for x in levels if x in LEVEL_LABELS]
        if labels:
            lines.append(f"Cấp thực hiện theo danh mục: {', '.join(labels)}.")
        if any(c.get("kind") == "online" for c in self._channels()):
            lines.append("Thủ tục này có thể nộp trực tuyến.")
        return "\n".join(lines) or "Danh mục không ghi nơi tiếp nhận cho thủ tục này.", []

    def _online(self, full: bool) -> tuple[str, list[Button]]:
        channels = self._channels()
        online = [c for c in channels if c.get("kind") == "online"]
        if online:
            lines = [
                "Có, thủ tục này nộp trực tuyến được, trên Cổng Dịch vụ công quốc gia "
                "(dichvucong.gov.vn) — bấm «Nộp hồ sơ» ở trang thủ tục bên dưới.",
                self._channel_line(online[0], time=True, fee=True),
            ]
        elif channels:
            kinds = ", ".join(CHANNEL_LABELS[c["kind"]].lower() for c in channels)
            lines = [f"Theo danh mục, thủ tục này không có hình thức nộp trực tuyến; nộp {kinds}."]
        else:
            lines = ["Danh mục không ghi cách thức nộp cho thủ tục này."]
        return "\n".join(lines), []

    def _steps(self, full: bool) -> tuple[str, list[Button]]:
        steps = self.data.get("steps") or []
        if not steps:
            return "Danh mục không ghi trình tự thực hiện cho thủ tục này.", []
        shown = steps if full else steps[:MAX_STEPS]
        lines = ["Trình tự thực hiện:"]
        lines += [f"{i}. {_short(s)}" for i, s in enumerate(shown, 1)]
        buttons = []
        if len(steps) > len(shown):
            lines.append(f"… và {len(steps) - len(shown)} bước nữa.")
            buttons.append(
                Button("Xem đủ các bước", payload(Aspect.STEPS, self.p.code, detail="all"))
            )
        return "\n".join(lines), buttons

    def _conditions(self, full: bool) -> tuple[str, list[Button]]:
        conditions = self.data.get("conditions")
        if not conditions:
            return "Danh mục không nêu điều kiện riêng cho thủ tục này.", []
        limit = 3000 if full else MAX_TEXT_CHARS
        return f"Điều kiện:\n{_short(conditions, limit)}", []

    # -- helpers -------------------------------------------------------------------------

    def _offices(self) -> str:
        found = hue_offices(
            self.data.get("implementing_body"),
            self.data.get("competent_body"),
            commune=self.commune,
        )
        return "; ".join(o.name for o in found)

    @staticmethod
    def _channel_line(channel: dict[str, Any], time: bool = False, fee: bool = False) -> str:
        parts = []
        if time:
            parts.append(format_time(channel.get("time") or {}))
        if fee:
            amount = format_fee(channel.get("fee") or {})
            parts.append(f"lệ phí: {amount}" if time else amount)
        label = CHANNEL_LABELS.get(channel.get("kind", ""), channel.get("kind", ""))
        return f"• {label}: {', '.join(parts)}"
