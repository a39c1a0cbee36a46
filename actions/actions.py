"""Actions: read the tracker, pick a response by name, answer."""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.labels import ASPECT_LABELS, INTENT_LABELS
from actions.service_client import ServiceClient, ServiceRefusedError, ServiceUnavailableError
from vitext import fold, fold_words

# Intents never offered as a guess: they are answers, not requests.
_NOT_OFFERED = {"nlu_fallback", "affirm", "deny", "out_of_scope", "chitchat"}
MAX_GUESSES = 3


# The aspect of a procedure each question intent asks about (the service's answer aspects).
INTENT_ASPECTS = {
    "ask_procedure": "overview",
    "ask_procedure_documents": "documents",
    "ask_procedure_fee": "fee",
    "ask_procedure_time": "time",
    "ask_procedure_place": "place",
    "ask_procedure_online": "online",
    "ask_procedure_steps": "steps",
    "ask_procedure_conditions": "conditions",
}
MAX_CHOICES = 3
MAX_BUTTON_TITLE = 60
# Close candidates are offered as a choice only when the best leads by less than this (in the
# search's score); otherwise the best is answered and the others offered after the answer.
# On the blind tuning set, the first of 12 offered choices was right 10 times; both misses
# were within 0.05 of the best, one within 0.01 (docs/benchmarks/conversations.md).
CHOOSE_MARGIN = 0.01
# What a question asks about, in the citizen's words (folded), for messages whose intent
# names no aspect (a follow-up the classifier was unsure of, a place given alone). The
# question is where the message ends ("tòa xử rồi mà nó không trả tiền, giờ làm đơn ở đâu"):
# the aspect said last wins.
_ASPECT_WORDS = (
    (
        "fee",
        # "tiền" alone, but not cash ("tiền mặt") or money received ("có tiền")
        r"\b(?:le phi|phi|bao nhieu tien|het bao nhieu|ton bao nhieu|mat bao nhieu"
        r"|(?<!co )tien(?! mat)|bao nhieu mot|bao nhieu 1|gia bao nhieu|dong nao|xu nao"
        r"|(?:ton|mat|het|phi) bao nhiu|bao nhiu (?:tien|mot|1)"
        r"|ton tien|duoc mien|mien phi|phan tram|tinh (?:the nao|sao|ra sao|nhu the nao|rang))\b",
    ),
    (
        "time",
        r"\b(?:bao lau|may ngay|bao nhieu ngay|bao nhiu ngay|may thang|bao gio|khi nao|thoi gian"
        r"|lau khong|lau ko|mat may)\b",
    ),
    (
        "online",
        r"\b(?:online|onl|onlien|onile|truc tuyen|qua mang|tren mang|dich vu cong|vneid|tai nha)\b",
    ),
    (
        "documents",
        # "chưa có giấy tờ gì" tells, it does not ask
        r"\b(?:(?<!chua co )(?<!khong co )giay to|ho so|can gi|can chi|can j|can nhung gi"
        r"|nhung gi|nhung chi|gom gi|gom chi|mang theo|chuan bi|can mang|giay gi"
        r"|mang (?:gi|chi|j|nhung gi))\b",
    ),
    (
        "place",
        # not "phường" alone: "cần mang gì lên phường" asks for the documents
        r"\b(?:o dau|o mo|cho nao|cho mo|noi nao|nop o|lam o|(?:den|toi|len|o) co quan nao"
        r"|nop cho ai"
        # "ở công an phường được không": whether it can be done there
        # (not "ở Huế làm trên mạng được không", which asks about filing online)
        r"|o (?:ubnd |cong an |uy ban )?(?:phuong|xa|tinh|huyen|que|hue|thanh pho)"
        r"(?: (?!tren|qua|online|onl|truc)\w+){0,3}? (?:co )?duoc (?:khong|ko|k)"
        r"|(?:len|ra|di|toi|den|vo) (?:dau|mo))\b",
    ),
    ("conditions", r"\b(?:dieu kien|ai duoc|bat buoc|cung phai|truong hop nao)\b"),
    (
        "steps",
        r"\b(?:cac buoc|buoc nao|lam sao|lam the nao|nhu the nao|the nao|ra sao|ra rang"
        r"|lam rang|ntn|nhu nao|cach)\b"
        # Huế's "how", ending the question ("xin giấy phép răng"); "thì răng" asks about
        # what was just named, not how
        r"|(?<!thi )\brang\s*$",
    ),
)


# "điều kiện ra sao", "lệ phí thế nào": how a thing is, not how to do it (the steps). Not
# for documents: "nộp hồ sơ ra răng" asks how to file.
_HOW_IT_IS = r"(?:\s+(?:ra sao|the nao|nhu the nao|nhu nao|ntn|ra rang|sao))?"
_ASPECT_PATTERNS = tuple(
    (
        aspect,
        re.compile(
            pattern.replace(r")\b", r")" + _HOW_IT_IS + r"\b", 1)
            if aspect in {"fee", "time", "conditions"}
            else pattern
        ),
    )
    for aspect, pattern in _ASPECT_WORDS
)


# Words of the aspect questions, which name no procedure in a follow-up ("làm lại mất phí
# bao nhiêu", "hồ sơ đó nộp ở đâu"); not the words of procedure names among them ("sổ",
# "nhà", "hộ" are kept: "sổ đỏ", "xây nhà", "hộ kinh doanh").
_ASPECT_VOCABULARY = frozenset(
    "le phi tien bao nhieu lau ngay thang mat ton het nop dau mo lam sao nao giay to can gi"
    " chi mang theo online tren mang duoc khong ko thu tuc".split()
)
# …and "hồ sơ" when the message has it whole (not "hộ kinh doanh", "sổ đỏ").
_ASPECT_PHRASES = re.compile(r"\bho so\b")
# "có được không", "có phải … không", "có cần … không" end many questions ("làm online có
# được không" asks about filing online): they ask for the conditions only when nothing else
# is asked ("sửa mái nhà thì có cần xin phép không").
_MAY_I = re.compile(r"\b(?:co duoc|co phai|co can|duoc khong|duoc ko)\b")
# "… làm online được không hay phải lên phường": the office after "hay phải lên" is the
# alternative the citizen would rather avoid, not what is asked.
_ALTERNATIVE = re.compile(
    r"\bhay (?:la )?(?:bat buoc )?(?:phai )?(?:chay )?(?:len|ra|den|toi|di|vo|ve|xuong)\b.*$"
)


def aspect_in(text: str) -> str | None:
    """The aspect a question asks about, from its words ("mất mấy ngày" → time), if any:
    of several, the one said last (of two ending together, the longer: "điều kiện ra sao"
    asks for the conditions)."""
    words = _ALTERNATIVE.sub("", fold_words(text))
    said: list[tuple[int, int, str]] = []
    for aspect, pattern in _ASPECT_PATTERNS:
        for m in pattern.finditer(words):
            said.append((m.end(), m.end() - m.start(), aspect))
    if said:
        return max(said)[2]
    return "conditions" if _MAY_I.search(words) else None


# The classifier's aspect is taken, when the words name none, only above this confidence
# (the fallback's threshold, config.yml); below it a procedure named alone gets the overview.
# On the blind tuning part (304 procedure messages, 8 writers): aspect right for 275 with the
# intent first, 291 with the words first, 297 with the words first and this threshold (the
# same from 0.6 to 0.8).
ASPECT_CONFIDENCE = 0.55


def aspect_asked(latest: dict[str, Any], intent: str, text: str) -> str:
    """The aspect a message asks about: the words said last ("… thì nộp ở đâu" → place),
    else the classifier's aspect when it is sure, else the overview. A button's payload
    names its aspect by its intent; a place given alone asks where."""
    if text.startswith("/"):
        return INTENT_ASPECTS.get(intent, "overview")
    said = aspect_in(text)
    if said:
        return said
    classified = (latest.get("intent") or {}).get("name")
    if intent == "inform_place" and classified not in {"nlu_fallback", "out_of_scope"}:
        return "place"
    confidence = next(
        (
            float(r.get("confidence") or 0.0)
            for r in latest.get("intent_ranking") or []
            if r.get("name") == intent
        ),
        float((latest.get("intent") or {}).get("confidence") or 0.0)
        if classified == intent
        else 0.0,
    )
    if intent in INTENT_ASPECTS and confidence >= ASPECT_CONFIDENCE:
        return INTENT_ASPECTS[intent]
    return "overview"


def _entity(latest: dict[str, Any], name: str) -> str | None:
    for entity in latest.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def _without_communes(text: str, latest: dict[str, Any]) -> str:
    """The message with the communes the extractor found in it blanked out."""
    spans = sorted(
        (int(e["start"]), int(e["end"]))
        for e in latest.get("entities") or []
        if e.get("entity") == "commune" and e.get("start") is not None and e.get("end") is not None
    )
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return text


def _title(name: str) -> str:
    return name if len(name) <= MAX_BUTTON_TITLE else name[: MAX_BUTTON_TITLE - 1] + "…"


_SENTENCES = re.compile(r"(?<=[.!?;\n])\s*")
_CLAUSES = re.compile(",")


def question_pieces(text: str) -> list[str]:
    """The parts of a long message that ask its question, when there is more around it, the
    most focused first: its last clause between commas in the shape of a question, then the
    whole sentence around that clause.

    "Em với đứa bạn mở tiệm trà sữa … bán ế quá. Tạm ngừng kinh doanh thì phải báo ở đâu ạ"
    → ["Tạm ngừng kinh doanh thì phải báo ở đâu ạ"]; "… Tôi muốn hỏi ông bà ngoại có được
    đi đăng ký khai sinh thay cho cháu không, cần điều kiện gì ạ?" → the clause "cần điều
    kiện gì ạ", which names no procedure, then the sentence, which does. A clause has three
    words or more; the sentence's "?" counts for its last clause.
    """
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()]
    pieces: list[tuple[str, str]] = []  # (clause, its sentence)
    for sentence in sentences:
        clauses = [c.strip() for c in _CLAUSES.split(sentence) if c.strip(" .!?;")]
        for i, clause in enumerate(clauses):
            asked = sentence.endswith("?") and i == len(clauses) - 1
            pieces.append((clause.rstrip(" .!?;") + ("?" if asked else ""), sentence))
    if len(pieces) < 2:
        return []
    for clause, sentence in reversed(pieces):
        if len(clause.split()) >= 3 and is_question(clause):
            found = [clause.rstrip("?")]
            whole = sentence.rstrip(" .!?;")
            if whole != found[0] and len(sentences) > 1:
                found.append(whole)
            return found
    return []


def question_clause(text: str) -> str | None:
    """The most focused part of a long message that asks its question (question_pieces)."""
    pieces = question_pieces(text)
    return pieces[0] if pieces else None


async def search_procedures(
    client: ServiceClient, text: str, *, focus: bool = True
) -> dict[str, Any]:
    """The catalogue's search for a citizen's message, its question weighed first.

    A story around the question dilutes the match ("Ba mạ mình ở xã Phong Sơn cũ, đất ruộng
    … Giờ mình đi làm sổ lần đầu thì cần những điều kiện gì"): when the whole message
    matches nothing, the question's own sentence is searched, and its first match that is
    also among the whole message's best hits is taken. Both must agree: the question alone
    ("làm sổ lần đầu") can lose what the story says ("đất ruộng"). ``focus=False`` with a
    procedure in context: a follow-up's short question must not switch procedures.
    """
    result = await client.search(text, limit=MAX_CHOICES + 2)
    if result.get("matched") or not focus:
        return result
    around = {h["code"] for h in result.get("hits") or []}
    for piece in question_pieces(text):
        focused = await client.search(piece, limit=MAX_CHOICES + 2)
        if not focused.get("matched"):
            continue
        hits = focused.get("hits") or []
        # The question's own best match, or a sure one of its next, among the story's hits.
        agreed = [
            h
            for i, h in enumerate(hits)
            if h["code"] in around
            and (i == 0 or float(h.get("relevance", 0.0)) >= OUT_OF_SCOPE_RELEVANCE)
        ]
        if agreed:
            # The agreed hits are the choices (the first answered when it leads; see
            # CHOOSE_MARGIN).
            return {**focused, "hits": agreed, "alternatives": agreed[:MAX_CHOICES]}
    return result


# Words the classifier sometimes picks out as a procedure's name that name none (folded).
_GENERIC_MENTIONS = {
    "giay", "giay to", "ho so", "thu tuc", "don", "to khai", "ban sao", "giay phep", "so",
    "the", "giay chung nhan", "chung nhan", "dang ky", "dk", "xac nhan",
    # "lệ phí cái đó bao nhiêu": the one being discussed
    "do", "cai do", "no", "cai nay", "nay", "thu tuc do", "thu tuc nay", "cai ni", "ni",
}  # fmt: skip


# What a name picked out may hold besides a procedure's own words: pointers to the one in
# context ("giấy đó", "cái ni"), question words ("sao") — matched as written, since "đó" is
# not "đỏ" (sổ đỏ) — and the words of papers in general ("mang giấy", "hồ sơ đó").
_POINTERS = frozenset("đó đấy này ni nớ kia tê ấy nọ cái sao gì chi j vậy rứa".split())
_PAPER_WORDS = frozenset("giay to ho so don khai ban phep chung nhan xac thu tuc the".split())


def procedure_mention(latest: dict[str, Any]) -> str | None:
    """The procedure's name the classifier picked out of the message, unless it names none
    ("cần mang giấy gì": a paper, not a procedure's name; "An Cựu": a commune)."""
    mention = _entity(latest, "procedure")
    if not mention:
        return None
    folded_mention = fold_words(mention).strip()
    if folded_mention in _GENERIC_MENTIONS:
        return None
    communes = {
        fold_words(str(e.get(key) or ""))
        for e in latest.get("entities") or []
        if e.get("entity") == "commune"
        for key in ("value", "text")
    }
    if folded_mention in communes:
        return None  # "nhà tui ở An Cựu thì làm ở mô": where, not what
    written = [w for w in re.findall(r"\w+", mention.lower()) if w not in _POINTERS]
    rest = [w for w in fold_words(" ".join(written)).split() if w not in _ASPECT_VOCABULARY]
    if all(w in _PAPER_WORDS for w in rest):
        return None  # "giấy đó", "mang giấy", "sao": the one in context, or none
    return mention


def _answers_the_form(tracker: Tracker, text: str) -> bool:
    """The report form is waiting for an answer, and the message reads as one."""
    from actions.reports import reads_as_answer

    slot = tracker.get_slot("requested_slot")
    loop = (tracker.active_loop or {}).get("name")
    return bool(loop == "report_form" and slot and reads_as_answer(str(slot), text))


class ActionAnswerProcedure(Action):
    """Answers one aspect of a procedure from the catalogue, keeping it in context.

    The procedure is, in order: the one a pressed button names; the one the message names
    (searched in the catalogue, and when two or three fit equally the citizen chooses with
    buttons); the one already being discussed (a follow-up such as "còn lệ phí thì sao?").
    A message naming nothing the catalogue holds gets an honest "not found".
    """

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_answer_procedure"

    async def _names_context(self, mention: str, context: str) -> bool:
        """Whether a name picked out that the search does not match shares a word with the
        procedure in context (besides the words of aspect questions)."""
        name = set(fold_words(await self.client.procedure_name(context) or "").split())
        said = set(fold_words(mention).split()) - _ASPECT_VOCABULARY
        return bool(said & name)

    async def _names_another(self, result: dict[str, Any], context: str, text: str = "") -> bool:
        """Whether a follow-up's words name another procedure than the one in context."""
        phrased = {w for p in _ASPECT_PHRASES.findall(fold_words(text)) for w in p.split()}
        terms = [str(t) for t in result.get("terms") or [] if str(t) not in phrased]
        hits = result.get("hits") or []
        if len(terms) < 3 or not hits:
            return False
        if float(hits[0].get("relevance", 0.0)) < OUT_OF_SCOPE_RELEVANCE:
            return False
        name = await self.client.procedure_name(context)
        known = set(fold_words(name or "").split()) | _ASPECT_VOCABULARY
        return sum(1 for t in terms if t not in known) >= 2

    async def _tells_a_problem(self, text: str) -> bool:
        """Whether a message is a civic problem told as a statement: two keyword words of a
        category, or the report classifier sure of one (not "other"), and no question."""
        from actions.reports import is_descriptive

        if not text or text.startswith("/") or is_question(text) or not is_descriptive(text):
            return False
        try:
            preview = await self.client.report_preview({"description": text[:2000]})
        except (ServiceUnavailableError, ServiceRefusedError):
            return False
        top = (preview.get("categories") or [{}])[0]
        if top.get("code") in {None, "other"}:
            return False
        return int(top.get("score") or 0) >= REPORT_STARTS_AT or bool(preview.get("confident"))

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        intent = (
            tracker.get_intent_of_latest_message()
            or (latest.get("intent") or {}).get("name")
            or "ask_procedure"
        )
        text = str(latest.get("text") or "")
        if _answers_the_form(tracker, text):
            # "chụp k được, đang chạy xe" taken for a procedure question in the middle of a
            # report: the form reads it as the answer it is (the rule runs the form next).
            return []
        from actions.reports import ActionCheckReportStatus, asks_report_status

        if asks_report_status(text):
            # "PA-2026-000057 khi nào mới xong" taken for a question about a procedure's time:
            # it asks after a report sent before.
            return await ActionCheckReportStatus(self.client).run(dispatcher, tracker, domain)
        aspect = aspect_asked(latest, intent, text)
        code = _entity(latest, "procedure_code")
        mention = procedure_mention(latest)
        context = tracker.get_slot("procedure_code")
        query = mention if text.startswith("/") else text
        if context and not text.startswith("/"):
            # "nộp ở đâu, nhà ở Thủy Dương": a commune's name is not a procedure's.
            query = _without_communes(text, latest)
        others: list[dict[str, Any]] = []
        try:
            if not code:
                result = await search_procedures(self.client, query or "", focus=not context)
                if not result.get("matched") and mention and mention != query:
                    # A long message around its question can drown the procedure's name;
                    # the name the classifier picked out ("khai tử") is searched alone.
                    result = await self.client.search(mention, limit=MAX_CHOICES + 2)
                # One word in common ("hồ sơ gồm chi" → "gồm") names no procedure: a
                # procedure's name has two syllables at least.
                terms = len(result.get("terms") or [])
                named = bool(mention) or terms >= 2
                # A follow-up keeps its procedure unless it clearly names another one: a
                # name the classifier picked out, or, with a procedure in context, three
                # words of which two are not in its name ("bao lâu thì có giấy phép" after
                # a building permit names none), matched well ("làm online được không,
                # khỏi lên công an" matches nothing well).
                clearly = bool(mention) or (
                    await self._names_another(result, context, query or "")
                    if context
                    else terms >= 2
                )
                switches = result.get("matched") and clearly
                if switches:
                    choices = result.get("alternatives") or []
                    lead = (
                        float(choices[0].get("score", 0.0)) - float(choices[1].get("score", 0.0))
                        if len(choices) > 1
                        else 1.0
                    )
                    if len(choices) > 1 and lead >= CHOOSE_MARGIN:
                        others = choices[1:MAX_CHOICES]
                    elif len(choices) > 1:
                        dispatcher.utter_message(
                            response="utter_procedure_choose",
                            buttons=[
                                {
                                    "title": _title(c["name"]),
                                    "payload": _payload(
                                        intent, [{"entity": "procedure_code", "value": c["code"]}]
                                    ),
                                }
                                for c in choices[:MAX_CHOICES]
                            ],
                        )
                        # The procedure in context stays until one is chosen: "làm online
                        # được không" after ignoring the choice is still about it.
                        return []
                    code = result["hits"][0]["code"]
                elif context and (not mention or await self._names_context(mention, context)):
                    # "nhà nhỏ rứa cũng phải xin phép hả" after a building permit: the name
                    # picked out is the one in context, said in other words.
                    code = context
                elif not tracker.active_loop_name and await self._tells_a_problem(text):
                    # "chung cư bọn mình mất nước 2 ngày rồi…" taken for a procedure question:
                    # no procedure found, a civic problem told — the report it is (blind
                    # tuning H-c002), never "not found".
                    return [FollowupAction("report_form")]
                elif named:
                    dispatcher.utter_message(
                        response="utter_procedure_not_found", query=mention or text
                    )
                    return [SlotSet("procedure_code", None)]
                else:
                    dispatcher.utter_message(
                        response="utter_ask_procedure_name",
                        aspect_label=ASPECT_LABELS.get(intent, ASPECT_LABELS["ask_procedure"]),
                    )
                    return []
            answer = await self.client.answer(
                code,
                aspect,
                full=_entity(latest, "detail") == "all",
                commune=tracker.get_slot("commune"),
            )
        except ServiceUnavailableError:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        if answer is None:
            dispatcher.utter_message(response="utter_procedure_not_found", query=code)
            return [SlotSet("procedure_code", None)]
        buttons = list(answer.get("buttons") or [])
        text = answer["text"]
        if others:
            # The best is answered; the close ones stay one press away.
            text += "\n\nNếu bạn hỏi thủ tục khác, chọn bên dưới:"
            buttons += [
                {
                    "title": _title(c["name"]),
                    "payload": _payload(intent, [{"entity": "procedure_code", "value": c["code"]}]),
                }
                for c in others
            ]
        dispatcher.utter_message(
            text=text,
            buttons=buttons,
            # Which procedure and aspect this answers, for channels and tools that read it.
            json_message={"procedure": {"code": code, "aspect": aspect}},
        )
        return [SlotSet("procedure_code", code)]


def _date(value: str | None) -> str:
    """2026-11-20 → 20/11/2026."""
    if not value:
        return ""
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}"


class ActionCheckApplicationStatus(Action):
    """Tells the state of an application from the one-stop-shop adapter, by its code."""

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_check_application_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = tracker.get_slot("application_code")
        if not code:
            dispatcher.utter_message(response="utter_ask_application_code")
            return []
        try:
            status = await self.client.application(code)
        except ServiceUnavailableError:
            dispatcher.utter_message(response="utter_service_unavailable")
            return [SlotSet("application_code", None)]
        if status is None:
            dispatcher.utter_message(response="utter_application_not_found", code=code)
            return [SlotSet("application_code", None)]
        due = _date(status.get("due_on"))
        dispatcher.utter_message(
            response="utter_application_status",
            code=status["code"],
            procedure_name=status["procedure_name"],
            state_label=status["state_label"],
            received_on=_date(status["received_on"]),
            due_line=f"\nHẹn trả kết quả: {due}." if due else "",
            office=status["office"],
            note_line=f"\nGhi chú: {status['note']}" if status.get("note") else "",
            demo_line=(
                "\n(Đây là hồ sơ mẫu để dùng thử, không phải hồ sơ thật.)"
                if status.get("is_demo")
                else ""
            ),
        )
        return [SlotSet("application_code", None)]


class ActionAcknowledgePlace(Action):
    """Acknowledges a place given outside any flow and offers what to do there."""

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_acknowledge_place"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("procedure_code"):
            # "ở phường Vỹ Dạ thì nộp ở đâu": the place answer of the procedure in context.
            return await ActionAnswerProcedure(self.client).run(dispatcher, tracker, domain)
        # "cây bàng trên đường Lê Lợi gãy một nhánh lớn…": more than a place, weighed as any
        # unclear message is (a problem there starts the report, a question is answered).
        weigher = ActionWeighUnclear(self.client)
        weighed = await weigher.weigh(dispatcher, tracker, domain, beyond_place=True)
        if weighed is not None:
            return weighed
        commune = tracker.get_slot("commune")
        dispatcher.utter_message(
            response="utter_place_received",
            commune_label=commune or "",
        )
        return []


def _payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """A button payload that re-sends the intent with the entities already understood."""
    values = {e["entity"]: e["value"] for e in entities if e.get("entity") and e.get("value")}
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"


class ActionDefaultAskAffirmation(Action):
    """First stage of the two-stage fallback: offer the top guesses as Vietnamese buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        ranking = latest.get("intent_ranking") or []
        entities = latest.get("entities") or []
        guesses = [
            r["name"]
            for r in ranking
            if r.get("name") in INTENT_LABELS and r["name"] not in _NOT_OFFERED
        ][:MAX_GUESSES]
        buttons = [
            {"title": INTENT_LABELS[intent], "payload": _payload(intent, entities)}
            for intent in guesses
        ]
        buttons.append({"title": "Không phải các ý trên", "payload": "/deny"})
        dispatcher.utter_message(response="utter_ask_affirmation_none", buttons=buttons)
        return []


# A question for information or advice that merely names a place or a thing a report or a
# procedure could be about ("chùa Thiên Mụ mở cửa mấy giờ", "vé vào Đại Nội bao nhiêu tiền",
# "quán nào bán cơm hến ngon", "chia đất cho các con vậy có công bằng không", "có kiện được
# không", "xin visa đi Hàn du lịch"): neither a civic problem nor a procedure of the
# catalogue, whatever its words (folded).
_INFO_QUESTION = re.compile(
    r"\b(?:may gio|gio mo cua|mo cua|bao nhieu tien|gia ve|ve vao|quan nao|o dau ngon|ngon nhat"
    r"|cach nau|co nen|nen mo|con loi|lai suat|thoi tiet|co mua|di dau choi|cho nao ngon"
    r"|cong bang|kien (?:duoc|dc)|di kien|loi khuyen|visa di)\b"
)


def _info_question(text: str) -> bool:
    return bool(_INFO_QUESTION.search(fold_words(text)))


# The shape of a question (folded): a question mark, an interrogative phrase anywhere, or a
# question particle at the end. "đèn đường tắt mấy hôm rồi" is a statement; "đăng ký tạm trú
# nộp ở đâu", "làm lại có phải thi lại không" are questions.
_QUESTION = re.compile(
    r"\?"
    r"|\bo dau\b(?! (?:kiet|hem|ngo|ngach|duong|cau|cho|xom|thon|to|khu|day)\b)"
    r"|\bmay ngay\b(?! (?:roi|nay|qua|lien|nua)\b)"
    r"|\b(?:o mo|ntn|cho nao|cho mo|noi nao|the nao|nhu nao|ra sao|ra rang|lam sao"
    r"|lam rang|bao nhieu|bao lau|khi nao|bao gio|can gi|can chi|can j|gom gi"
    r"|gom chi|nhung gi|giay gi|giay to gi|ho so gi|giay chi|giay to chi|ho so chi|nhung chi"
    r"|mang gi|mang chi|mang j"
    r"|co phai|co can|co duoc|duoc khong"
    r"|duoc ko|dc khong|dc ko|dc k|hay khong|hay ko|phai khong|phai ko|cach nao|thu tuc)\b"
)
# "có … không" ending a clause: "mai trời có mưa không, tính phơi lúa" (on the folded text
# with its punctuation).
_YES_NO = re.compile(r"\bco\s+(?:\w+\s+){0,3}(?:khong|ko)\s*(?:[,;.]|$)")
# A question particle ending the message, then perhaps a word of address ("… không ạ").
# Typed with diacritics, it must be the particle itself: "sửa chữa" does not end in "chưa",
# nor "khống" in "không" (blind tuning H-m041).
_PARTICLE_END = re.compile(
    r"(?P<word>\w+)(?:\s+(?:a|ak|ah|ad|nha|nhe|ta|em|anh|chi|ban|o))?[\s.!…]*$"
)
_PARTICLES = {
    "khong": {"không"}, "ko": {"ko"}, "k": {"k"}, "hong": {"hông"}, "chua": {"chưa"},
    "ha": {"hả", "há", "hà"}, "hi": {"hỉ", "hì"}, "nhi": {"nhỉ"}, "vay": {"vậy"}, "v": {"v"},
    "rang": {"răng"}, "sao": {"sao"}, "gi": {"gì"}, "j": {"j"},
}  # fmt: skip
# "không thấy treo bảng giấy phép gì": nothing at all, told; "không biết cần gì" still asks.
_NOTHING = re.compile(
    r"\b(?:khong|ko|chang|chua|cha)\s+(?!biet\b|hieu\b|ro\b)(?:\w+\s+){1,6}(?:gi|j|chi)"
    r"(?:\s+(?:ca|het))?[\s.!…]*$"
)


def _ends_with_particle(lowered: str) -> bool:
    if _NOTHING.search(fold_words(lowered)):
        return False
    # fold keeps every offset (fold_words drops punctuation), so the word is read as typed
    found = _PARTICLE_END.search(fold(lowered))
    if not found or found.group("word") not in _PARTICLES:
        return False
    typed = lowered[found.start("word") : found.end("word")]
    return typed.isascii() or typed in _PARTICLES[found.group("word")]


# "I want to do it" (folded): a wish to go through a procedure ("tui muốn xin phép xây nhà
# 2 tầng", "định đăng ký hộ kinh doanh"), never a report, even in a procedure's words.
_WANTS_PROCEDURE = re.compile(
    r"\b(?:muon|tinh|dinh|can|phai|sap)\s+(?:di\s+)?(?:xin|lam|dang ky|cap|doi|nop|khai"
    r"|chuyen|tach|mo|thanh lap|hop thuc)\b"
)


# "where", typed with its diacritics ("nộp ở đâu kiệt nào cũng được"); "đâu có ai dọn"
# (nobody cleans it) is not a question.
_WHERE = re.compile(r"\b(?:ở|o|lên|len|tới|toi|đến|den|nộp|nop|làm|lam|chỗ|cho|nơi) đâu\b")


def is_question(text: str) -> bool:
    """Whether a message is shaped as a question, not a statement of what happened.

    "đầu" (the head of a lane) is never "đâu" (where): told apart before folding, where
    only "o dau kiet …" without diacritics stays a statement.
    """
    lowered = text.lower()
    return bool(
        "?" in text
        or _WHERE.search(lowered)
        or _QUESTION.search(fold_words(lowered.replace("đầu", "head")))
        or _ends_with_particle(lowered)
        or _YES_NO.search(fold(lowered))
    )


# Keyword words a report message must match before the form starts unasked; from one, the
# citizen is asked. The model's guess alone (0) is never enough for an out-of-scope message.
REPORT_STARTS_AT = 2
REPORT_ASKS_AT = 1
# How well the search must match a short message the classifier took as out of scope (the
# search's own "matched" is 0.43), before it is answered as that procedure. A long message
# with its story around the question ("Ba mạ mình ở xã Phong Sơn cũ, đất ruộng… có làm sổ
# được không") is answered on the search's own match.
OUT_OF_SCOPE_RELEVANCE = 0.6
LONG_MESSAGE_WORDS = 15
# A follow-up asked in this many words or fewer names nothing else ("hết bao nhiêu tiền ạ").
FOLLOW_UP_WORDS = 5


async def question_names_a_procedure(client: ServiceClient, text: str) -> bool:
    """Whether the question of a long message, searched alone, matches a procedure: a
    report ending in a rhetorical question ("… xe chở vật liệu ra vào liên tục. Xã có biết
    không vậy?") asks for none."""
    pieces = question_pieces(text)
    if not pieces:
        return True  # no question of its own to tell by: a question all the same
    for piece in pieces:
        try:
            if (await client.search(piece, limit=MAX_CHOICES + 2)).get("matched"):
                return True
        except (ServiceUnavailableError, ServiceRefusedError):
            return True
    return False


def names_procedure(text: str, search: dict[str, Any], *, surely: bool) -> bool:
    """Whether the search's answer to ``text`` names a procedure the citizen asks about.

    ``surely``: the classifier said otherwise (out of scope, a report), so the match must be
    sure — well matched, or a long message with its story around the question — and the
    message no question for information or advice.
    """
    hits = search.get("hits") or []
    relevance = float(hits[0].get("relevance", 1.0)) if hits else 0.0
    named = len(search.get("terms") or []) >= 2  # as ActionAnswerProcedure reads it
    if not (search.get("matched") and named):
        return False
    if not surely:
        return True
    return not _info_question(text) and (
        relevance >= OUT_OF_SCOPE_RELEVANCE or len(text.split()) >= LONG_MESSAGE_WORDS
    )


# What an unsure message with a report's code in it is about (its best guess).
_ABOUT_A_REPORT = {"check_report_status", "reopen_report", "rate_report"}


class ActionWeighUnclear(Action):
    """Before declining or asking back, weigh what the domain knows about the message.

    For a message the classifier took as out of scope, or was unsure of. The costs are not
    equal: declining a real report or procedure question is the worst error, asking back is
    cheap. So, in order:
    - the report classifier finds a civic problem with two keyword words or more (and the
      message is not a question for information) → the report form starts, the message
      being its description;
    - a procedure is being discussed and the message asks about an aspect ("mất mấy ngày")
      → that aspect of it;
    - the procedure search matches it (more surely for an out-of-scope message) → that
      procedure is answered;
    - one keyword word of a problem → "Bạn muốn gửi phản ánh về … không?";
    - otherwise: out of scope → declined; unsure → the classifier's top guesses as buttons.
    """

    def __init__(self, client: ServiceClient | None = None) -> None:
        self.client = client or ServiceClient()

    def name(self) -> str:
        return "action_weigh_unclear"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        weighed = await self.weigh(dispatcher, tracker, domain)
        if weighed is not None:
            return weighed
        # Out of scope, or unsure with out of scope its best guess ("nhân viên nghỉ ngang
        # còn nợ tiền lương, giữ lương lại được không"): with nothing the domain knows of
        # the message, the in-scope guesses as buttons would be guesses against the odds.
        if tracker.get_intent_of_latest_message() == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        return await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)

    async def weigh(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        beyond_place: bool = False,
    ) -> list[dict[str, Any]] | None:
        """What the domain makes of the message, or None when it knows nothing of it.

        ``beyond_place``: the message was taken for a place; only what it says besides the
        place is weighed (a place alone is not a problem, nor a question).
        """
        from actions.reports import is_descriptive, offer_report

        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        text = str(latest.get("text") or "").strip()
        guesses = [
            r.get("name")
            for r in latest.get("intent_ranking") or []
            if r.get("name") not in {"nlu_fallback", None}
        ]
        from actions.reports import asks_report_status

        if (
            _entity(latest, "report_code") and guesses[:1] and guesses[0] in _ABOUT_A_REPORT
        ) or asks_report_status(text):
            # "đã được cho mã PA-2026-000274 … rốt cuộc khi nào mới xong?": its status, which
            # changes nothing (reopening is offered from there). Told here, as its own rule
            # would: a follow-up action after an unsure intent ends in the fallback.
            from actions.reports import ActionCheckReportStatus

            return await ActionCheckReportStatus(self.client).run(dispatcher, tracker, domain)
        if text and not text.startswith("/"):
            try:
                preview = await self.client.report_preview({"description": text[:2000]})
                focus = not tracker.get_slot("procedure_code")
                search = await search_procedures(self.client, text, focus=focus)
                mention = procedure_mention(latest)
                if not search.get("matched") and mention and is_question(text):
                    # A long story drowns the name the classifier picked out ("… đi đăng ký
                    # khai sinh thay cho cháu không, cần điều kiện gì ạ?"): searched alone,
                    # as the answer does (ActionAnswerProcedure).
                    search = await self.client.search(mention, limit=MAX_CHOICES + 2)
            except (ServiceUnavailableError, ServiceRefusedError):
                preview, search = {"categories": [], "confident": False}, {"matched": False}
            if beyond_place:
                rest = text.replace(str(preview.get("place") or ""), " ")
                if not is_descriptive(rest):
                    return None
            problem = 0
            top = (preview.get("categories") or [{}])[0]
            # "Khác" is the category of what fits none: no evidence of a civic problem.
            if is_descriptive(text) and top.get("code") not in {None, "other"}:
                problem = 0 if _info_question(text) else int(top.get("score") or 0)
            # The classifier out of scope, or unsure and leaning that way ("MU tối nay đá
            # với đội nào"): only a sure match names a procedure.
            leans_away = intent == "out_of_scope" or guesses[:1] == ["out_of_scope"]
            procedure = names_procedure(text, search, surely=leans_away)
            sure = bool(preview.get("confident"))
            # A problem told as a statement is a report, even where the search finds a
            # procedure in its words ("xây nhà trên đất nông nghiệp, làm ban đêm"); told as a
            # question, the procedure the search found is what is asked.
            wants = bool(_WANTS_PROCEDURE.search(fold_words(text)))
            # Against the classifier's "out of scope", one keyword word only asks (below):
            # a private complaint can share a word with a civic problem.
            told = REPORT_STARTS_AT if intent == "out_of_scope" else REPORT_ASKS_AT
            asked = is_question(text)
            if asked and problem >= told and len(text.split()) >= LONG_MESSAGE_WORDS:
                # A long report ending in a rhetorical question ("… xe chở vật liệu ra vào
                # liên tục. Xã có biết không vậy?"): its question names no procedure.
                asked = await question_names_a_procedure(self.client, text)
            # One keyword word against a procedure the search names ("lam ho chieu lan dau":
            # "ho" folds to the pothole's "hố"; blind tuning L-c016): the procedure.
            weak = problem < REPORT_STARTS_AT and procedure
            if problem >= told and not asked and not wants and not weak:
                return [FollowupAction("report_form")]
            if problem >= REPORT_STARTS_AT and sure and not procedure:
                return [FollowupAction("report_form")]
            context = tracker.get_slot("procedure_code")
            # An information question is no follow-up ("giá vé vào Đại Nội bao nhiêu tiền"),
            # but the aspect asked in a few words is ("hết bao nhiêu tiền ạ").
            follows = context and aspect_in(text)
            if follows and _info_question(text) and len(text.split()) > FOLLOW_UP_WORDS:
                follows = False
            if follows or procedure:
                answer = ActionAnswerProcedure(self.client)
                return await answer.run(dispatcher, tracker, domain)
            # One keyword word, or the model alone sure of a category: asked, never declined.
            if problem >= REPORT_ASKS_AT or (
                sure
                and top.get("code") != "other"
                and is_descriptive(text)
                and not _info_question(text)
            ):
                return offer_report(dispatcher, top["name"], text)
        return None
