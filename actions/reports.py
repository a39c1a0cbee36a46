"""Civic feedback reports in the chat: the intake form, filing, status, rating and reopening.

The form (``report_form`` in domain.yml) collects, in order: what happened, its category,
where (an address, a commune, or a shared location), photos (optional), urgency, and the
citizen's confirmation of a summary. The first message often already describes the problem
("đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi"); it is used. The service infers the
category, urgency and commune, and finds open reports of the same thing nearby.

A procedure question, a status question or a request for help in the middle of the form is
answered and the form goes on (data/rules/reports.yml); "hủy" stops it at any point.
"""

from __future__ import annotations

import abc
import json
import re
import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.service_client import ServiceClient, ServiceRefusedError, ServiceUnavailableError
from vitext import fold, fold_words
from vitext.words import folded

FORM = "report_form"
REPORT_SLOTS = (
    "report_description",
    "report_category",
    "report_category_missed",
    "report_address",
    "report_commune",
    "report_latitude",
    "report_longitude",
    "report_photos",
    "report_photo_step",
    "report_urgency",
    "report_urgency_guess",
    "report_confirmed",
    "report_follow",
    "report_follow_offered",
    "report_submission_key",
    "report_offered_text",
)
# Messages that ask something else mid-form: answered by a rule, then the form goes on.
DIGRESSIONS = {
    "ask_procedure",
    "ask_procedure_documents",
    "ask_procedure_fee",
    "ask_procedure_time",
    "ask_procedure_place",
    "ask_procedure_online",
    "ask_procedure_steps",
    "ask_procedure_conditions",
    "check_report_status",
    "check_application_status",
    "help",
    "bot_challenge",
    "human_handoff",
}
DIGRESSION_CONFIDENCE = 0.8
# The commune the citizen could not give: the operations centre places the report.
UNKNOWN_COMMUNE = "không rõ"
UNKNOWN_COMMUNE_LABEL = (
    "phường/xã chưa rõ, Trung tâm Giám sát, điều hành đô thị thông minh sẽ xác định"
)
# Words of "I want to report" that say nothing about the problem itself (folded).
_FILLER = set(
    """toi tui minh mk em anh chi ban muon can gui phan anh pa bao cao su co mot 1 vu viec
    cho hoi ad admin oi voi nhe nha a ah lam sao the nao o day dc duoc khong ko k hien truong
    gi ve tren nay giup xin vui long chut cai ni nay kia ạ""".split()
)
MIN_DESCRIPTION_WORDS = 3
# Typed at the photo question, these mean "no photo" (folded).
SKIP_PHOTO = {
    "khoi",
    "thoi khoi",
    "bo qua",
    "bo qua di",
    "khong co",
    "ko co",
    "k co",
    "khong co anh",
    "ko co anh",
    "khong can",
    "ko can",
    "k can",
    "skip",
    "thoi",
    "khong",
    "ko",
}
# Read in any answer at the photo question: "ko có hình", "chụp k dc", "hình chi mà hình".
_NO_PHOTO = re.compile(
    r"\b(?:khong|ko|k|kh|hong|chua|chang|het|khoi|bo qua|skip)\b.*\b(?:anh|hinh|chup|hinh anh)\b"
    r"|\b(?:anh|hinh|chup)\b.*\b(?:khong|ko|k|kh|hong|chua|duoc|dc|khoi|chi)\b"
)
# Whether people are in danger, as citizens answer it (folded).
# Danger denied: "không nguy hiểm", "ko tới mức nguy hiểm", "k có gì", and Huế's "nguy hiểm
# chi" (what danger?). Read alike as the answer to the danger question and as an aside at
# the photo question (danger_said).
_NO_DANGER = (
    r"\b(?:khong|ko|k|kh|chua|chang|hong)\s+(?:\w+\s+){0,2}nguy hiem\b"
    r"|\bnguy hiem (?:chi|gi)\b(?!\s+(?:khong|ko|k|rua|vay|a|ha)\b)"
    r"|\bnguy hiem (?:thi )?(?:cung )?(?:khong|ko|k|chua|hong|chang)\b(?!\s+(?:a|ha|vay|ta)\b)"
)
_NOT_URGENT = re.compile(
    _NO_DANGER + r"|\b(?:khong|ko|k|kh|chua|chang|hong)\s+(?:co\s+)?(?:sao|gi|chi|ai)\b"
    r"|\bbinh thuong\b|^\s*(?:khong|ko|k|kh|hong|chua)\b"
)
_URGENT = re.compile(
    r"\bnguy hiem\b|\bkhan cap\b|\bbi thuong\b|\bcap cuu\b|\bte\b|\bnga\b|\bdam\b"
    r"|\bchet\b|\bchay\b|\bgiat\b|\bdien giat\b|^\s*(?:co|co a|co chu|co nha|co roi)\b"
)
# "Send it" at the summary: "ok gửi", "xác nhận", "đúng rồi, gửi đi", "gui le di".
_SEND = re.compile(
    r"\b(?:gui|xac nhan|dung roi|dung r|dung vay|chinh xac|ok|oke|okay|dong y|chot)\b"
)
_DONT = re.compile(r"\b(?:khong|ko|dung gui|khoi gui|huy|sai|chua dung|chua)\b")
# Stopping the report in so many words ("hủy", "không gửi nữa", "thôi khỏi báo"): the one
# thing that overrules an answer the step's own reader recognises (folded).
_STOP = re.compile(
    r"\b(?:huy|huy bo|dung lai|ngung|thoat|bam nham|cancel|de khi khac|de bua khac|thoi nghi)\b"
    r"|\b(?:khong|ko|k|khoi|thoi)\s+(?:gui|bao|phan anh)\b(?!\s+(?:hinh|anh|duoc|dc|kem))"
    r"|\b(?:khoi|thoi)\s+(?:gui|bao|phan anh|dien)\b"
)
# Words that make an answer a place, whatever else it says ("ko có hình, ở trước chợ").
_PLACE_WORDS = re.compile(
    r"\d|\b(?:o|tai|truoc|sau|gan|canh|doi dien|duong|kiet|hem|ngo|phuong|xa|thon|to|khu|cho"
    r"|cau|truong|nha|ga|ben|cong|chua|lang|dinh|song|ho)\b"
)
# Public places, where a civic problem happens and a private matter rarely does (folded;
# not "chợ", "cống", "trường": "cho", "cong", "truong" are other words too).
_PUBLIC_PLACE = re.compile(
    r"\b(?:duong|kiet|hem|cau|via he|le duong|long duong|cong vien|quoc lo|tinh lo|bo song"
    r"|bai bien|muong|cot dien|den duong|nga ba|nga tu|street|road)\b"
)
SENDER = re.compile(r"^[a-z0-9_]{1,20}:[A-Za-z0-9_.:@-]{1,180}$")
_SCORE_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
_SCORE = re.compile(r"(?<![\d-])([1-5])(?![\d-])")
_SCORE_WORD = re.compile(r"\b(mot|hai|ba|bon|tu|nam)\s*(sao|diem|\*)")


def citizen_of(tracker: Tracker) -> str:
    """The citizen as the service knows them: the gateway's sender id ("web:…")."""
    sender = str(tracker.sender_id or "")
    return (
        sender
        if SENDER.match(sender)
        else f"rasa:{re.sub(r'[^A-Za-z0-9_.@-]', '', sender)[:60] or 'anon'}"
    )


def channel_of(tracker: Tracker) -> str:
    return citizen_of(tracker).split(":", 1)[0]


def _latest(tracker: Tracker) -> dict[str, Any]:
    return tracker.latest_message or {}


def _intent(tracker: Tracker) -> tuple[str, float]:
    intent = _latest(tracker).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _entity(tracker: Tracker, name: str) -> str | None:
    for entity in _latest(tracker).get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            return str(entity["value"])
    return None


def _text(tracker: Tracker) -> str:
    """What the citizen typed; empty for a pressed button (a /payload)."""
    text = str(_latest(tracker).get("text") or "").strip()
    return "" if text.startswith("/") else text


def _metadata(tracker: Tracker) -> dict[str, Any]:
    """The gateway's metadata of the latest message: channel, location, attachments."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            return metadata if isinstance(metadata, dict) else {}
    return {}


def _location(tracker: Tracker) -> tuple[float, float] | None:
    location = _metadata(tracker).get("location")
    try:
        return float(location["latitude"]), float(location["longitude"])
    except (TypeError, KeyError, ValueError):
        return None


def _attachments(tracker: Tracker) -> list[dict[str, Any]]:
    return [
        a
        for a in _metadata(tracker).get("attachments") or []
        if isinstance(a, dict) and a.get("media_id")
    ]


def is_descriptive(text: str) -> bool:
    """True when a message says what the problem is, not only "I want to report"."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    return len([w for w in words if w not in _FILLER]) >= MIN_DESCRIPTION_WORDS


def _words(text: str) -> str:
    return fold_words(text)


def says_no_photo(text: str) -> bool:
    """True for the many ways of saying there is no photo ("ko có hình", "chụp k dc")."""
    words = _words(text)
    return words in SKIP_PHOTO or bool(_NO_PHOTO.search(words))


def urgency_in(text: str) -> str | None:
    """ "urgent", "normal", or None: the answer to "is anyone in danger?" in the citizen's words."""
    words = _words(text)
    if _NOT_URGENT.search(words):
        return "normal"
    if _URGENT.search(words):
        return "urgent"
    return None


# Danger said in so many words, as an aside to another answer ("ko chụp được, trời tối rồi.
# mà nguy hiểm lắm nghe"): the photo answer's "ko" is not an answer to the danger question.
_DANGER_DENIED = re.compile(_NO_DANGER)
_DANGER = re.compile(r"\bnguy hiem\b|\bkhan cap\b|\bcap cuu\b")


def danger_said(text: str) -> str | None:
    """ "urgent" or "normal" when the message says so in words of danger; None otherwise."""
    words = _words(text)
    if _DANGER_DENIED.search(words):
        return "normal"
    return "urgent" if _DANGER.search(words) else None


# "sửa địa chỉ: kiệt 5 Lê Lợi", "đổi chỗ lại là trước chợ Đông Ba" at the summary (folded,
# which keeps every offset: the place is cut from the text as the citizen wrote it).
_CHANGE_PLACE = re.compile(
    r"\b(?:sua|doi|ghi|chinh)\b[^:]{0,20}?\b(?:dia diem|dia chi|vi tri|cho|noi)\b"
    r"(?:\s+(?:giup|gium|di|lai|nha|nhe|thanh))*\s*(?::|\bla\b|\bo\b)\s*"
)


def changed_place(text: str) -> str | None:
    """The new place a citizen writes at the summary to change it, as written; None if none."""
    match = _CHANGE_PLACE.search(fold(text))
    if not match:
        return None
    place = text[match.end() :].strip(" .,;")
    return place if len(place) >= 3 else None


def says_send(text: str) -> bool:
    """True for "ok gửi", "xác nhận", "đúng rồi gửi đi" at the summary (not "đừng gửi")."""
    words = _words(text)
    return bool(_SEND.search(words)) and not _DONT.search(words)


def says_stop(text: str) -> bool:
    """True when the citizen stops the report in so many words ("hủy", "không gửi nữa")."""
    return bool(_STOP.search(_words(text)))


def reads_as_answer(slot: str, text: str) -> bool:
    """Whether ``text`` answers the question asked for ``slot``, by the step's own reader.

    The classifier reads "ko nguy hiểm lắm, chỉ tối thôi" as cancelling and "có, tối đèn mờ
    dễ té lắm" as a procedure question; at the urgency question both are answers.
    """
    if slot in {"report_photo_step", "report_commune"}:
        # at the commune question, "chụp k được" answers the photo question ahead
        return says_no_photo(text)
    if slot == "report_urgency":
        return urgency_in(text) is not None
    if slot == "report_confirmed":
        return says_send(text)
    if slot == "report_address":
        return says_place(text)
    return False


def _more_of_the_place(tracker: Tracker, text: str) -> str:
    """The address with more of the place said later: the new words alone when the place was
    known only by its commune (or they repeat it), else both, as said — nothing is dropped."""
    address = str(tracker.get_slot("report_address") or "")
    if not address or address == tracker.get_slot("report_commune") or fold(address) in fold(text):
        return text[:500]
    if fold(text) in fold(address):
        return address[:500]
    return f"{address}, {text}"[:500]


def says_place(text: str) -> bool:
    """A statement with the words of a place: the answer to "where is it?", whatever the
    classifier made of it ("ở trước cổng trường Quốc Học" is no question about an office)."""
    from actions.actions import is_question

    words = _words(text)
    return bool(_PLACE_WORDS.search(words)) and not is_question(text) and not says_stop(text)


# A report sent before and asked after: its tracking code as citizens type it ("PA-2026-000123",
# "pa 2026 000512", "PA2026000418"), or a report mentioned as sent ("phản ánh … tui gửi hôm
# bữa", "… hôm qua của tui") with a progress question ("tới đâu rồi", "có ai xử lý chưa").
_TRACKING_CODE = re.compile(r"\bpa ?20\d\d ?\d{3,6}\b")
_A_REPORT = re.compile(r"\b(?:phan anh|bao cao|ma so)\b")
_SENT_BEFORE = re.compile(
    r"\b(?:da gui|(?:toi|tui|em|minh|mk|chau|con|bac|ba|me|ma) (?:da )?gui"
    r"|gui (?:tu|hom|tuan|bua|lau|may)|(?:hom|bua|tuan|thang) (?:truoc|qua|bua|roi)"
    r"|cua (?:toi|tui|em|minh|mk|ba|me|ma|ong|chau))\b"
)
_PROGRESS = re.compile(
    r"\b(?:toi dau|den dau|xu ly (?:xong |roi |toi dau |den dau )?(?:chua|roi chua)"
    r"|xong chua|xong het chua|tiep nhan chua|co (?:ai|nguoi) .{0,30}chua"
    r"|(?:chuyen|giao) .{0,30}chua"
    r"|sao chua|chua thay|tinh trang|tien do|khi nao (?:moi )?xong|sao lau|lau rua|lau vay"
    r"|kiem tra|xem giup|xem gium|coi giup|coi gium|tra cuu)\b"
)


def asks_report_status(text: str) -> bool:
    """Whether a message asks how a report sent before is going (its status, not a new
    report): a tracking code with a progress question or little else, or a report
    mentioned as sent with a progress question."""
    words = _words(text)
    progress = bool(_PROGRESS.search(words))
    if _TRACKING_CODE.search(words):
        rest = _TRACKING_CODE.sub(" ", words)
        return progress or not is_descriptive(rest)
    return progress and bool(_A_REPORT.search(words)) and bool(_SENT_BEFORE.search(words))


def rating_in(text: str) -> int | None:
    """A 1–5 score written as a digit ("5 sao", "cho 4*") or a word ("năm sao")."""
    folded = fold(text)
    match = _SCORE.search(folded)
    if match:
        return int(match.group(1))
    word = _SCORE_WORD.search(folded)
    return _SCORE_WORDS[word.group(1)] if word else None


def _place_label(tracker: Tracker) -> str:
    address = tracker.get_slot("report_address")
    commune = tracker.get_slot("report_commune")
    if commune == UNKNOWN_COMMUNE:
        return f"{address or 'chưa rõ'} ({UNKNOWN_COMMUNE_LABEL})"
    # "kiệt 3 Vĩ Dạ" names the commune Vỹ Dạ already: i/y and accents folded alike.
    if address and commune and folded(commune) not in folded(address):
        return f"{address} ({commune})"
    return str(address or commune or "chưa rõ")


def _payload(intent: str, values: dict[str, Any]) -> str:
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}"


class ValidateReportForm(FormValidationAction):
    """Fills the report form's slots from what the citizen says, sends or presses."""

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "validate_report_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """As rasa_sdk's, but also keeps the form's helper slots that extraction set.

        rasa_sdk drops every extracted slot that is not a required slot; the place's
        coordinates, the photos and the duplicate to follow are not asked for by themselves.
        """
        weighed = await self._weigh_first_message(dispatcher, tracker, domain)
        if weighed is not None:
            return weighed
        text = _text(tracker)
        if (
            tracker.get_slot("requested_slot")
            and not text.startswith("/")
            and _intent(tracker)[0] != "cancel"  # the cancel rule's
            and says_stop(text)
        ):
            # "thôi hủy nhé, tổ trưởng bảo phường biết rồi" taken for a report or anything
            # else: stopping in so many words stops, as the cancel rule would. The submit
            # rule after a stopped form files nothing unconfirmed.
            dispatcher.utter_message(response="utter_report_cancelled")
            return [*_reset(), SlotSet("requested_slot", None), ActiveLoop(None)]
        asked = await self._answer_question(dispatcher, tracker, domain)
        if asked is not None:
            return asked
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        validated = await self._extract_validation_events(dispatcher, tracker, domain)
        kept = {e["name"] for e in validated if e.get("event") == "slot"}
        extra = [
            e
            for e in extracted
            if e.get("event") == "slot" and e["name"] in REPORT_SLOTS and e["name"] not in kept
        ]
        return [*validated, *extra]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """As rasa_sdk's, plus the photos that came with this message, whatever was asked.

        rasa_sdk runs only the extractors of required slots, and photos are not asked for by
        themselves: without this a photo sent to the form was never seen.
        """
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        named = {e["name"] for e in events if e.get("event") == "slot"}
        photos = await self.extract_report_photos(dispatcher, tracker, domain)
        return [*events, *(SlotSet(k, v) for k, v in photos.items() if k not in named)]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        slots = ["report_description", "report_category", "report_address"]
        # Without a shared location, routing needs the commune (asked when the address has none).
        if tracker.get_slot("report_latitude") is None and tracker.get_slot("report_address"):
            if not tracker.get_slot("report_commune"):
                slots.append("report_commune")
        return [*slots, "report_photo_step", "report_urgency", "report_confirmed"]

    async def _weigh_first_message(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """The message that started the form, weighed before anything is asked.

        - A procedure question the classifier took for a report ("công ty em muốn dựng biển
          quảng cáo sát quốc lộ, xin chấp thuận vị trí mất mấy ngày") is answered as that
          procedure when the search names it surely.
        - A message that names no civic problem at all is declined. The classifier takes
          private matters told like complaints for reports ("hàng xóm mượn tiền không
          trả"); the report classifier then finds no category, not even a guess of its
          model — which no civic report of the blind tuning set did (0 of 75; 19 of 33
          out-of-scope messages). Declined with a button for the citizen who disagrees;
          the text is kept for it, so nothing they wrote is lost.
        In both cases the form stops, and the submit rule that follows a stopped form files
        nothing: only a confirmed report is filed (ActionSubmitReport).
        """
        from actions.actions import (
            LONG_MESSAGE_WORDS,
            OUT_OF_SCOPE_RELEVANCE,
            REPORT_STARTS_AT,
            ActionAnswerProcedure,
            is_question,
            names_procedure,
            question_names_a_procedure,
            search_procedures,
        )

        text = _text(tracker)
        stop = [SlotSet("requested_slot", None), ActiveLoop(None)]
        if (
            not tracker.get_slot("requested_slot")
            and not tracker.get_slot("report_description")
            and asks_report_status(text)
        ):
            # "phản ánh đèn đường hôm trước của em có ai tiếp nhận chưa" taken for a new
            # report: the status of the one sent (nothing is filed unconfirmed).
            return [
                *await ActionCheckReportStatus(self.client).run(dispatcher, tracker, domain),
                *stop,
            ]
        if (
            tracker.get_slot("requested_slot")
            or tracker.get_slot("report_description")
            or not is_descriptive(text)  # also "" for a pressed button
            or _attachments(tracker)
            or _location(tracker) is not None
        ):
            return None
        answer = ActionAnswerProcedure(self.client)
        try:
            search: dict[str, Any] | None = None
            preview: dict[str, Any] | None = None
            asked = is_question(text)
            if asked and len(text.split()) >= LONG_MESSAGE_WORDS:
                # "… Xã có biết không vậy?" ends a report told at length: with a civic
                # problem in its words, a question that names no procedure is rhetorical.
                preview = await self.client.report_preview({"description": text[:2000]})
                top = (preview.get("categories") or [{}])[0]
                if int(top.get("score") or 0) >= REPORT_STARTS_AT:
                    asked = await question_names_a_procedure(self.client, text)
            if asked:
                search = await search_procedures(self.client, text)
                if names_procedure(text, search, surely=True):
                    return [*await answer.run(dispatcher, tracker, domain), *stop]
            if preview is None:
                preview = await self.client.report_preview({"description": text[:2000]})
            if not preview.get("categories"):
                # No civic problem in it: a procedure asked for without a question's shape
                # ("đổi cà vẹt xe sang địa chỉ mới") is answered, never declined.
                search = search or await search_procedures(self.client, text)
                hits = search.get("hits") or [{}]
                if (
                    len(text.split()) < LONG_MESSAGE_WORDS  # not a private story around it
                    and float(hits[0].get("relevance", 0.0)) >= OUT_OF_SCOPE_RELEVANCE
                    and names_procedure(text, search, surely=True)
                ):
                    return [*await answer.run(dispatcher, tracker, domain), *stop]
        except (ServiceUnavailableError, ServiceRefusedError):
            return None  # the form goes on; nothing is declined on a failure
        if preview.get("categories") or preview.get("place") or _PUBLIC_PLACE.search(_words(text)):
            # A problem at a public place ("đường vô kiệt 5 … bị đào lên", "cái hole rất lớn
            # trên đường") is no private matter, whatever the categories' words miss: the
            # category is asked. The model's guess alone is enough too: asking there instead
            # of starting cost held-out report conversations more than it saved
            # (conversations-history.md, candidate 6).
            return None
        dispatcher.utter_message(response="utter_out_of_scope_report")
        return [SlotSet("report_offered_text", text), *stop]

    async def _answer_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """A procedure question in the middle of the form, answered; the form then asks its
        question again ("mà hỏi chút, bày bàn ghế trên vỉa hè có phải xin phép không").

        For the questions the classifier was unsure of: a sure procedure intent is answered
        by a rule (data/rules/reports.yml). Only a question the search matches surely, that
        is not an answer to the step (nor, at the commune step, a commune).
        """
        from actions.actions import OUT_OF_SCOPE_RELEVANCE, ActionAnswerProcedure, is_question

        slot = tracker.get_slot("requested_slot")
        text = _text(tracker)
        intent, confidence = _intent(tracker)
        if (
            slot in {None, "report_description"}
            or not text
            or text.startswith("/")
            or _attachments(tracker)
            or _location(tracker) is not None
            or (intent in DIGRESSIONS and confidence >= DIGRESSION_CONFIDENCE)
            or intent == "cancel"
            or _entity(tracker, "commune")
            or not is_question(text)
            or reads_as_answer(str(slot), text)
        ):
            return None
        try:
            search = await self.client.search(text, limit=3)
        except (ServiceUnavailableError, ServiceRefusedError):
            return None
        hits = search.get("hits") or []
        if not (search.get("matched") and hits):
            return None
        if float(hits[0].get("relevance", 0.0)) < OUT_OF_SCOPE_RELEVANCE:
            return None
        events = await ActionAnswerProcedure(self.client).run(dispatcher, tracker, domain)
        # A slot set keeps Rasa from rejecting the form, and the same question is asked again
        # (left to itself, Rasa would ask the next slot of the domain's static list).
        return [
            *(events or [SlotSet("procedure_code", tracker.get_slot("procedure_code"))]),
            SlotSet("requested_slot", slot),
        ]

    async def _commune_of(self, place: str) -> str | None:
        """The commune the service finds in a place as typed (a commune's name, a street)."""
        preview = await self.client.report_preview({"commune": place[:80], "address": place[:500]})
        return preview.get("commune") or None

    def _answering(self, tracker: Tracker, slot: str) -> bool:
        """The message answers the question asked for ``slot`` (not a digression, not cancel)."""
        if tracker.get_slot("requested_slot") != slot:
            return False
        text = _text(tracker)
        if says_stop(text):
            return False
        if reads_as_answer(slot, text):
            return True  # whatever the classifier made of it
        intent, confidence = _intent(tracker)
        if intent == "cancel":
            return False
        if intent == "out_of_scope":
            # "mà mai trời có mưa không hỉ", "… điện lực tính sai hay răng" at the photo
            # question: declined, then the question is asked again (data/rules/reports.yml),
            # however sure the classifier (blind tuning K-c002). A statement is an answer,
            # whatever the classifier made of it.
            from actions.actions import is_question

            return not is_question(text)
        return not (intent in DIGRESSIONS and confidence >= DIGRESSION_CONFIDENCE)

    # -- description -------------------------------------------------------------------

    async def extract_report_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = _text(tracker)
        if tracker.get_slot("report_description") is None and not tracker.get_slot(
            "requested_slot"
        ):
            # The message that started the report: used when it describes the problem.
            if text and is_descriptive(text):
                return {"report_description": text}
            offered = tracker.get_slot("report_offered_text")
            if offered and not text and _intent(tracker)[0] == "report_problem":
                # "Gửi phản ánh" pressed under an offer or a decline: what they wrote is kept.
                return {"report_description": offered, "report_offered_text": None}
            return {}
        if not self._answering(tracker, "report_description"):
            return {}
        if not text:
            return {"report_description": None}
        return {"report_description": text}

    async def validate_report_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"report_description": None}
        text = str(value).strip()
        if len(text) < 5 or not re.search(r"\w", text):
            dispatcher.utter_message(response="utter_report_description_too_short")
            return {"report_description": None}
        if len(text) > 2000:
            dispatcher.utter_message(response="utter_report_description_too_long")
            return {"report_description": None}
        slots: dict[str, Any] = {"report_description": text}
        if not tracker.get_slot("report_submission_key"):
            slots["report_submission_key"] = uuid.uuid4().hex
        try:
            draft = {"description": text}
            if tracker.get_slot("report_address"):
                draft["address"] = tracker.get_slot("report_address")
            preview = await self.client.report_preview(draft)
        except (ServiceUnavailableError, ServiceRefusedError):
            return slots  # the category is then asked; nothing is lost
        if not tracker.get_slot("report_category") and preview["categories"]:
            top = preview["categories"][0]
            # The model sure, or the words of a category in the description: taken (shown,
            # and changeable, at the summary) rather than asked for what was already said.
            if preview["confident"] or int(top.get("score") or 0) >= 1:
                slots["report_category"] = top["code"]
        slots["report_urgency_guess"] = preview["urgency"]
        if preview.get("commune") and not tracker.get_slot("report_commune"):
            slots["report_commune"] = preview["commune"]
        # The place the citizen already wrote is kept: never asked for again.
        if not tracker.get_slot("report_address") and tracker.get_slot("report_latitude") is None:
            if preview.get("place"):
                slots["report_address"] = preview["place"]
            elif preview.get("commune"):  # "mất nước ở Vỹ Dạ": the commune is the place
                slots["report_address"] = preview["commune"]
        return slots

    # -- category ----------------------------------------------------------------------

    async def extract_report_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        chosen = _entity(tracker, "report_category")
        if chosen:
            try:
                known = {c["code"] for c in await self.client.report_categories()}
            except (ServiceUnavailableError, ServiceRefusedError):
                known = set()
            # A category pressed (or forged) that the service does not know is not taken.
            return {"report_category": chosen if chosen in known else None}
        if not self._answering(tracker, "report_category"):
            return {}
        text = _text(tracker)
        if not text:
            return {"report_category": None}
        try:
            preview = await self.client.report_preview({"description": text})
        except (ServiceUnavailableError, ServiceRefusedError):
            return {"report_category": None}
        if preview["categories"]:
            return {"report_category": preview["categories"][0]["code"]}
        if fold(text).strip() in {"khac", "cai khac", "loai khac", "linh vuc khac"}:
            return {"report_category": "other"}
        ahead = self._another_steps_answer(tracker, text)
        if ahead:
            # "kiệt 60 Trần Phú", "ko có hình", "nguy hiểm lắm" at "which field?": the answer
            # to another question, taken for it (blind tuning K-c001, K-c011); the category
            # is asked once more, then filed as "other" — never a loop.
            if tracker.get_slot("report_category_missed"):
                return {**ahead, "report_category": "other"}
            return {**ahead, "report_category": None, "report_category_missed": True}
        if tracker.get_slot("report_category_missed"):
            # Asked once, missed once: never a loop. The operations centre sorts it out, and
            # the answer is read for what it is (often the answer to the photo question).
            slots: dict[str, Any] = {"report_category": "other"}
            if says_no_photo(text):
                slots["report_photo_step"] = "skipped"
            return slots
        dispatcher.utter_message(response="utter_report_category_unclear")
        return {"report_category": None, "report_category_missed": True}

    @staticmethod
    def _another_steps_answer(tracker: Tracker, text: str) -> dict[str, Any]:
        """The slots ``text`` fills when it answers a step other than the one asked: more of
        the place (a place known only by its commune takes the words), no photo, the danger."""
        slots: dict[str, Any] = {}
        if says_no_photo(text):
            slots["report_photo_step"] = "skipped"
        elif says_place(text) and tracker.get_slot("report_latitude") is None:
            slots["report_address"] = _more_of_the_place(tracker, text)
        danger = danger_said(text)
        if danger is not None:
            slots["report_urgency"] = danger
        return slots

    # -- place -------------------------------------------------------------------------

    async def extract_report_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        location = _location(tracker)
        if location is None and not tracker.get_slot("report_address"):
            # A photo taken with location on may give the place when none was given yet.
            for attachment in _attachments(tracker):
                gps = attachment.get("gps") or {}
                if gps.get("latitude") is not None and gps.get("longitude") is not None:
                    location = (float(gps["latitude"]), float(gps["longitude"]))
                    dispatcher.utter_message(response="utter_report_place_from_photo")
                    break
        if location is not None:
            latitude, longitude = location
            typed = tracker.get_slot("report_address")
            if typed and tracker.get_slot("requested_slot") != "report_address":
                # The address written earlier is kept; the position places it exactly (and
                # answers the commune question).
                return {"report_latitude": latitude, "report_longitude": longitude}
            return {
                "report_address": f"Vị trí đã chia sẻ ({latitude:.5f}, {longitude:.5f})",
                "report_latitude": latitude,
                "report_longitude": longitude,
            }
        if not self._answering(tracker, "report_address"):
            return {}
        text = _text(tracker)
        if len(text) < 3:
            return {"report_address": None}
        if says_no_photo(text) and not _PLACE_WORDS.search(_words(text)):
            # "chụp ko dc, tụi nó chạy mất rồi": the photo question answered ahead, no
            # place; the place is asked again (blind tuning H-c012).
            return {"report_photo_step": "skipped"}
        danger = danger_said(text)
        if danger is not None and not _PLACE_WORDS.search(_words(text)):
            # "không nguy hiểm tính mạng" answers the danger question ahead, no place: kept,
            # and the place is asked again (blind tuning I-c012).
            return {"report_urgency": danger}
        from actions.actions import aspect_in, is_question

        if not _PLACE_WORDS.search(_words(text)) and (
            is_question(text) or aspect_in(text) or says_send(text)
        ):
            # "phi bao nhieu" is a question, "ok gửi" a wish to send, not where the problem
            # is (blind tuning L-c016, I-c012): the place is asked again.
            return {"report_address": None}
        return {"report_address": text, "report_latitude": None, "report_longitude": None}

    async def validate_report_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"report_address": None}
        slots: dict[str, Any] = {"report_address": str(value)[:500]}
        if tracker.get_slot("report_latitude") is not None:
            return slots
        commune = _entity(tracker, "commune")
        try:
            preview = await self.client.report_preview(
                {
                    "description": tracker.get_slot("report_description") or "",
                    "address": str(value)[:500],
                    "commune": commune,
                }
            )
        except (ServiceUnavailableError, ServiceRefusedError):
            return slots
        if preview.get("commune"):
            slots["report_commune"] = preview["commune"]
        return slots

    async def extract_report_commune(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not self._answering(tracker, "report_commune"):
            return {}
        intent, _ = _intent(tracker)
        if says_no_photo(_text(tracker)):  # "k có ảnh": the photo question answered already
            return {"report_commune": UNKNOWN_COMMUNE, "report_photo_step": "skipped"}
        if intent == "deny":  # "không rõ": the operations centre will place it
            return {"report_commune": UNKNOWN_COMMUNE}
        text = _entity(tracker, "commune") or _text(tracker)
        if not text:
            return {"report_commune": None}
        try:
            commune = await self._commune_of(text)
        except (ServiceUnavailableError, ServiceRefusedError):
            return {"report_commune": UNKNOWN_COMMUNE}
        if commune:
            return {"report_commune": commune}
        # Not a commune: asked once, never again. The operations centre will place it (the
        # summary says so), and the answer is read for what it is.
        slots: dict[str, Any] = {"report_commune": UNKNOWN_COMMUNE}
        ahead = self._another_steps_answer(tracker, text)
        if (ahead or says_send(text)) and "report_address" not in ahead:
            # "yes dangerous, rất nguy hiểm", "ok gửi": the answer to another question,
            # taken for it; "this address's commune is unknown" would answer what was not
            # said (blind tuning J-c005, K-c001).
            return {**slots, **ahead}
        dispatcher.utter_message(response="utter_report_commune_unknown")
        return {**slots, **ahead}

    # -- photos ------------------------------------------------------------------------

    async def extract_report_photos(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        photos = [str(a["media_id"]) for a in _attachments(tracker)]
        if not photos:
            return {}
        known = list(tracker.get_slot("report_photos") or [])
        merged = list(dict.fromkeys(known + photos))[:10]
        slots: dict[str, Any] = {"report_photos": merged}
        if tracker.get_slot("report_photo_step") is None:
            slots["report_photo_step"] = "done"
        return slots

    async def extract_report_photo_step(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if _attachments(tracker) or tracker.get_slot("requested_slot") != "report_photo_step":
            return {}
        text = _text(tracker)
        # "khỏi", "bỏ qua" here skip the photo; they would otherwise read as cancelling.
        # Anything else typed here that is not a photo (nor a question or cancelling) means
        # there is none: the form moves on, and a photo sent later is still added.
        if not says_no_photo(text) and not self._answering(tracker, "report_photo_step"):
            return {}
        if says_place(text) and not says_no_photo(text):
            # "gần chợ Phú Bài, phường Phú Bài" at the photo question: more about the place,
            # not "no photo" (blind tuning J-c017). A place known only by its commune takes
            # the words; the photo is asked again.
            if tracker.get_slot("report_latitude") is not None:
                return {"report_address": tracker.get_slot("report_address")}
            return {"report_address": _more_of_the_place(tracker, text)}
        slots: dict[str, Any] = {"report_photo_step": "skipped"}
        danger = danger_said(text)  # "ko có hình, mà nguy hiểm lắm": not asked again
        if danger is not None:
            slots["report_urgency"] = danger
        return slots

    # -- urgency -----------------------------------------------------------------------

    async def extract_report_urgency(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        chosen = _entity(tracker, "report_urgency")
        if chosen in {"normal", "urgent"}:
            return {"report_urgency": chosen}
        if not self._answering(tracker, "report_urgency"):
            return {}
        said = urgency_in(_text(tracker))
        if said is not None:
            return {"report_urgency": said}
        if says_no_photo(_text(tracker)):
            # "tôi chưa chụp" answers the photo question late: no danger said, so the
            # danger is asked again rather than read from a "no" (blind tuning J-c017).
            return {"report_photo_step": "skipped"}
        intent, _ = _intent(tracker)
        if intent == "affirm":
            return {"report_urgency": "urgent"}
        if intent == "deny":
            return {"report_urgency": "normal"}
        # Unclear: the description's own reading, shown (and changeable) at the summary.
        return {"report_urgency": tracker.get_slot("report_urgency_guess") or "normal"}

    # -- confirmation ------------------------------------------------------------------

    async def extract_report_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "report_confirmed":
            return {}
        follow = _entity(tracker, "report_follow")
        if follow:
            # Only the report this summary offered: a payload naming a code is a request, not
            # proof (the service checks the offer again when following).
            offered = tracker.get_slot("report_follow_offered")
            if offered and follow.strip().upper() == offered:
                return {"report_follow": offered, "report_confirmed": True}
            return {}
        edit = _entity(tracker, "report_edit")
        if edit == "report_description":
            return {"report_description": None, "report_category": None}
        if edit == "report_category":
            return {"report_category": None}
        if edit == "report_address":
            return {
                "report_address": None,
                "report_commune": None,
                "report_latitude": None,
                "report_longitude": None,
            }
        if _entity(tracker, "report_urgency"):
            return {}  # the urgency was changed from the summary; it is shown again
        if not self._answering(tracker, "report_confirmed"):
            return {}
        intent, _ = _intent(tracker)
        text = _text(tracker)
        place = changed_place(text)
        if place:
            # "sửa chỗ địa điểm giùm: lan can ở Minh Lâu, trong lăng Minh Mạng": taken as
            # written, and the summary is shown again with it.
            slots: dict[str, Any] = {"report_address": place}
            try:
                commune = await self._commune_of(place)
            except (ServiceUnavailableError, ServiceRefusedError):
                commune = None
            if commune:
                slots["report_commune"] = commune
            return slots
        if intent == "affirm" or says_send(text):
            return {"report_confirmed": True}
        urgency = urgency_in(text)
        if urgency is not None and urgency != tracker.get_slot("report_urgency"):
            return {"report_urgency": urgency}  # the summary is shown again with it
        if urgency is not None:
            # The danger answered again as the summary already says: shown again, no change.
            return {"report_confirmed": None}
        dispatcher.utter_message(response="utter_report_what_to_change")
        return {"report_confirmed": None}


class ActionAskReportCategory(Action):
    """Asks for the category with buttons: the service's best guesses, or every category."""

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_ask_report_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            preview = await self.client.report_preview(
                {"description": tracker.get_slot("report_description") or ""}
            )
            choices = preview["categories"] or await self.client.report_categories()
        except (ServiceUnavailableError, ServiceRefusedError):
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        buttons = [
            {
                "title": c["name"],
                "payload": _payload("report_problem", {"report_category": c["code"]}),
            }
            for c in choices
        ]
        if not any(c["code"] == "other" for c in choices):
            buttons.append(
                {
                    "title": "Lĩnh vực khác",
                    "payload": _payload("report_problem", {"report_category": "other"}),
                }
            )
        dispatcher.utter_message(response="utter_ask_report_category", buttons=buttons)
        return []


class ActionAskReportConfirmed(Action):
    """Shows the summary to confirm, with a way to change each part, and any duplicate."""

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_ask_report_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        category = tracker.get_slot("report_category")
        urgent = tracker.get_slot("report_urgency") == "urgent"
        try:
            preview = await self.client.report_preview(
                {
                    "citizen": citizen_of(tracker),
                    "description": tracker.get_slot("report_description") or "",
                    "category": category,
                    "address": tracker.get_slot("report_address"),
                    "commune": tracker.get_slot("report_commune"),
                    "latitude": tracker.get_slot("report_latitude"),
                    "longitude": tracker.get_slot("report_longitude"),
                }
            )
            names = {c["code"]: c["name"] for c in await self.client.report_categories()}
        except (ServiceUnavailableError, ServiceRefusedError):
            preview, names = {"duplicates": []}, {}
        photos = len(tracker.get_slot("report_photos") or [])
        lines = [
            "Mình tóm tắt phản ánh của bạn:",
            f"• Nội dung: {tracker.get_slot('report_description')}",
            f"• Lĩnh vực: {names.get(category or '', 'chưa xác định')}",
            f"• Địa điểm: {_place_label(tracker)}",
            f"• Ảnh: {f'{photos} ảnh' if photos else 'không có'}",
            f"• Mức độ: {'khẩn cấp' if urgent else 'bình thường'}",
        ]
        buttons = [{"title": "Gửi phản ánh", "payload": "/affirm"}]
        duplicate = (preview.get("duplicates") or [None])[0]
        if duplicate:
            lines.append(
                f"\nLưu ý: đã có phản ánh {duplicate['code']} về việc tương tự ở gần đó, "
                f"đang ở trạng thái «{duplicate['state_label']}». Bạn có thể theo dõi phản ánh "
                "đó thay vì gửi mới."
            )
            buttons.append(
                {
                    "title": f"Theo dõi {duplicate['code']}",
                    "payload": _payload("report_problem", {"report_follow": duplicate["code"]}),
                }
            )
        lines.append("\nThông tin đã đúng chưa ạ?")
        buttons += [
            {
                "title": "Sửa nội dung",
                "payload": _payload("report_problem", {"report_edit": "report_description"}),
            },
            {
                "title": "Đổi lĩnh vực",
                "payload": _payload("report_problem", {"report_edit": "report_category"}),
            },
            {
                "title": "Sửa địa điểm",
                "payload": _payload("report_problem", {"report_edit": "report_address"}),
            },
            {
                "title": "Không khẩn cấp" if urgent else "Báo khẩn cấp",
                "payload": _payload(
                    "report_problem", {"report_urgency": "normal" if urgent else "urgent"}
                ),
            },
            {"title": "Hủy phản ánh", "payload": "/cancel"},
        ]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet("report_follow_offered", duplicate["code"] if duplicate else None)]


def offer_report(
    dispatcher: CollectingDispatcher, category_name: str, text: str
) -> list[dict[str, Any]]:
    """Asks whether the message is a report about the category; pressing "Gửi phản ánh" then
    starts the form with the message as its description (nothing written is lost)."""
    dispatcher.utter_message(
        text=f"Bạn muốn gửi phản ánh về «{category_name}» không?",
        buttons=[
            {"title": "Gửi phản ánh", "payload": "/report_problem"},
            {"title": "Không phải", "payload": "/deny"},
        ],
    )
    return [SlotSet("report_offered_text", text)]


def _reset() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in REPORT_SLOTS]


class ActionSubmitReport(Action):
    """Files the confirmed report (or follows the duplicate chosen) and gives its code."""

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_submit_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("report_confirmed") is not True:
            # The form stopped without the citizen's confirmation: nothing is filed (and the
            # text of a declined first message stays for its "Gửi phản ánh" button).
            return []
        citizen = citizen_of(tracker)
        follow = tracker.get_slot("report_follow")
        try:
            if follow:
                report = await self.client.follow_report(follow, citizen, channel_of(tracker))
                dispatcher.utter_message(
                    response="utter_report_following",
                    code=report["code"],
                    state_label=report["state_label"],
                )
                return _reset()
            commune = tracker.get_slot("report_commune")
            report = await self.client.submit_report(
                {
                    "submission_key": tracker.get_slot("report_submission_key") or uuid.uuid4().hex,
                    "citizen": citizen,
                    "channel": channel_of(tracker),
                    "description": tracker.get_slot("report_description"),
                    "category": tracker.get_slot("report_category"),
                    "urgency": tracker.get_slot("report_urgency") or "normal",
                    "address": tracker.get_slot("report_address"),
                    "commune": None if commune == UNKNOWN_COMMUNE else commune,
                    "latitude": tracker.get_slot("report_latitude"),
                    "longitude": tracker.get_slot("report_longitude"),
                    "photos": tracker.get_slot("report_photos") or [],
                }
            )
        except ServiceUnavailableError:
            # Nothing is lost: the form's slots stay, and the same key files one report.
            dispatcher.utter_message(response="utter_report_submit_failed")
            return []
        except ServiceRefusedError as exc:
            dispatcher.utter_message(text=exc.message)
            return _reset()
        dispatcher.utter_message(
            response="utter_report_submitted",
            code=report["code"],
            agency_name=report.get("agency_name") or "Trung tâm IOC Huế",
            deadline_line=f"\nHạn xử lý: {report['deadline_label']}."
            if report.get("deadline_label")
            else "",
            json_message=report_card(report),
        )
        return _reset()


CARD_FIELDS = (
    "code",
    "state",
    "state_label",
    "open",
    "category_name",
    "address",
    "commune",
    "agency_name",
    "deadline_label",
    "latest_reply",
)


def report_card(report: dict[str, Any]) -> dict[str, Any]:
    """A report as a card (``custom.report``) for channels that draw one (the mini-app);
    the text beside it says the same, for channels that do not."""
    return {"report": {k: report.get(k) for k in CARD_FIELDS}}


class ActionCancelReport(Action):
    """Stops the report form and forgets the draft."""

    def name(self) -> str:
        return "action_cancel_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        slot = tracker.get_slot("requested_slot")
        text = _text(tracker)
        if (
            (tracker.active_loop or {}).get("name") == "report_form"
            and slot
            and text
            and not text.startswith("/")
            and not says_stop(text)
            and (reads_as_answer(str(slot), text) or says_no_photo(text))
        ):
            # Taken for cancelling, but the answer to the step in the step's own words:
            # "chụp rồi mà máy hư gửi ko lên, thôi khỏi" (no photo), "ko nguy hiểm, chỉ bực
            # thôi" (no danger), or "thôi khỏi, không có hình" said again at a later step.
            # The form reads it (blind tuning G-c011, H-c006, K-c002).
            return [FollowupAction("report_form")]
        dispatcher.utter_message(response="utter_report_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *_reset()]


class ServiceAction(Action, metaclass=abc.ABCMeta):
    """An action that calls the service; when the service fails, the citizen is told the same way.

    Subclasses implement ``act``. A refusal carries the service's Vietnamese sentence. Abstract,
    so rasa_sdk does not register it as an action of its own.
    """

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except ServiceUnavailableError:
            dispatcher.utter_message(response="utter_service_unavailable")
        except ServiceRefusedError as exc:
            dispatcher.utter_message(text=exc.message)
        return []

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]: ...


def _status_text(report: dict[str, Any]) -> str:
    lines = [
        f"Phản ánh {report['code']}"
        + (f" ({report['category_name']})" if report.get("category_name") else "")
    ]
    lines.append(f"Tình trạng: {report['state_label']}.")
    if report.get("agency_name"):
        lines.append(f"Đơn vị xử lý: {report['agency_name']}.")
    if report.get("open") and report.get("deadline_label"):
        late = " (đã quá hạn)" if report.get("overdue") else ""
        lines.append(f"Hạn xử lý: {report['deadline_label']}{late}.")
    if report.get("latest_reply"):
        lines.append(f"Trả lời gần nhất: {report['latest_reply']}")
    if report.get("rating"):
        lines.append(f"Bạn đã đánh giá: {report['rating']}/5 sao.")
    return "\n".join(lines)


def _after_resolution_buttons(code: str) -> list[dict[str, str]]:
    buttons = [
        {
            "title": f"{n} sao",
            "payload": _payload("rate_report", {"report_code": code, "rating": str(n)}),
        }
        for n in (5, 4, 3, 2, 1)
    ]
    buttons.append(
        {"title": "Chưa xử lý xong", "payload": _payload("reopen_report", {"report_code": code})}
    )
    return buttons


class ActionCheckReportStatus(ServiceAction):
    """Tells a report's state and the agency's latest reply — only to its reporter or followers."""

    def name(self) -> str:
        return "action_check_report_status"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        citizen = citizen_of(tracker)
        code = _entity(tracker, "report_code")
        if code:
            report = await self.client.citizen_report(code.upper(), citizen)
        else:
            mine = await self.client.citizen_reports(citizen)
            if not mine:
                dispatcher.utter_message(response="utter_report_none_yet")
                return []
            report = mine[0]
            if len(mine) > 1:
                dispatcher.utter_message(
                    response="utter_report_pick",
                    buttons=[
                        {
                            "title": f"{r['code']} – {r['state_label']}",
                            "payload": _payload("check_report_status", {"report_code": r["code"]}),
                        }
                        for r in mine[:5]
                    ],
                )
                return []
        buttons = _after_resolution_buttons(report["code"]) if report["state"] == "resolved" else []
        dispatcher.utter_message(
            text=_status_text(report), buttons=buttons, json_message=report_card(report)
        )
        return []


async def _resolved_report(client: ServiceClient, tracker: Tracker) -> str | None:
    """The report a rating or reopening is about: named, or the citizen's latest resolved one."""
    code = _entity(tracker, "report_code")
    if code:
        return code.upper()
    for report in await client.citizen_reports(citizen_of(tracker)):
        if report["state"] == "resolved":
            return str(report["code"])
    return None


class ActionRateReport(ServiceAction):
    def name(self) -> str:
        return "action_rate_report"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raw = _entity(tracker, "rating")
        rating = int(raw) if raw and raw.isdigit() else rating_in(_text(tracker))
        if rating is None or not 1 <= rating <= 5:
            dispatcher.utter_message(response="utter_report_rating_unclear")
            return []
        code = await _resolved_report(self.client, tracker)
        if code is None:
            dispatcher.utter_message(response="utter_report_nothing_to_rate")
            return []
        await self.client.rate_report(code, citizen_of(tracker), rating)
        dispatcher.utter_message(response="utter_report_rated", code=code, rating=rating)
        return []


class ActionReopenReport(ServiceAction):
    def name(self) -> str:
        return "action_reopen_report"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if asks_report_status(_text(tracker)):
            # "PA-2026-001052 răng chưa thấy ai xuống coi": how it is going; reopening is
            # offered from the status when it was resolved.
            return await ActionCheckReportStatus(self.client).run(dispatcher, tracker, domain)
        reason = _text(tracker) or "Người dân báo sự việc chưa được xử lý xong."
        code = await _resolved_report(self.client, tracker)
        if code is None:
            if is_descriptive(reason) and not reason.startswith("/"):
                # "karaoke lại hát nữa rồi, 11h đêm…" with nothing to reopen: a problem that
                # came back, reported anew (the message is its description).
                return [FollowupAction(FORM)]
            dispatcher.utter_message(response="utter_report_nothing_to_reopen")
            return []
        await self.client.reopen_report(code, citizen_of(tracker), reason)
        dispatcher.utter_message(response="utter_report_reopened", code=code)
        return []
