"""The conversation benchmark's scorer, on tracker snapshots recorded from the real stack.

The snapshots (tests/service/bench_snapshots/) were recorded by bench/conversations.py from
the synthetic fixture (bench/conversations/sample): the chat API's replies, the events each
message added to Rasa's tracker, and the tracker's slots and active loop before and after.
No Rasa here: this checks that the yardstick reads outcomes right.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.convdata import Conversation, DataError, Dataset, Expectation, Message, Turn, load_part
from bench.convdocs import render_markdown
from bench.convreport import part_figures
from bench.convscore import (
    TurnRecord,
    asked_again,
    intent_aspects,
    judge,
    read_turn,
    score_conversation,
)
from scripts import split_blind_set

SNAPSHOTS = Path(__file__).parent / "bench_snapshots"
ASPECTS = intent_aspects()


def records(name: str) -> list[TurnRecord]:
    data = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    return [TurnRecord(**r) for r in data["records"]]


def first(name: str):  # the outcome of a single message
    [record] = records(name)
    return read_turn(record, ASPECTS)


def conversation(*expectations: Expectation) -> Conversation:
    return Conversation("c", "w", tuple(Turn(f"turn {i}", e) for i, e in enumerate(expectations)))


PROCEDURE = Expectation("procedure_answer", codes=("1.001193",), aspect="documents")


def test_the_aspect_map_is_the_actions_own():
    assert ASPECTS["ask_procedure_fee"] == "fee"
    assert ASPECTS["ask_procedure"] == "overview"


def test_a_procedure_answer_is_read_with_its_code_and_aspect():
    outcome = first("procedure_documents")
    assert (outcome.answered_code, outcome.answered_aspect) == ("1.001193", "documents")
    assert outcome.label == "answered"
    assert judge(PROCEDURE, outcome)
    assert not judge(Expectation("procedure_answer", codes=("1.001193",), aspect="fee"), outcome)
    assert not judge(
        Expectation("procedure_answer", codes=("1.000894",), aspect="documents"), outcome
    )
    # "general" is answered by the overview only.
    assert not judge(
        Expectation("procedure_answer", codes=("1.001193",), aspect="general"), outcome
    )


def test_follow_ups_keep_the_procedure_and_answer_their_aspect():
    expectations = [
        PROCEDURE,
        Expectation("procedure_answer", codes=("1.001193",), aspect="fee"),
        Expectation("procedure_answer", codes=("1.001193",), aspect="online"),
        Expectation("smalltalk", act="thanks"),
    ]
    result = score_conversation(
        conversation(*expectations), records("procedure_follow_ups"), ASPECTS
    )
    assert [ok for _, _, ok in result.turns] == [True, True, True, True]
    assert [o.answered_aspect for _, o, _ in result.turns[:3]] == ["documents", "fee", "online"]
    assert result.right and not result.is_report


def test_a_report_asked_back_is_not_a_report_started():
    outcome = first("report_asked_back")
    assert outcome.intent == "nlu_fallback" and outcome.top_intent == "report_problem"
    assert outcome.label == "asked_back"
    assert not judge(Expectation("report_start", category="sanitation_waste"), outcome)


def test_out_of_scope_small_talk_and_status_are_read_by_response():
    declined = first("out_of_scope")
    assert declined.label == "out_of_scope" and judge(Expectation("out_of_scope"), declined)
    assert not judge(Expectation("report_start", category="other"), declined)
    greeting = first("greet")
    assert greeting.smalltalk == "greet" and judge(Expectation("smalltalk", act="greet"), greeting)
    assert not judge(Expectation("smalltalk", act="thanks"), greeting)
    status = first("report_status")
    assert status.label == "status" and judge(Expectation("report_status"), status)
    # The status answer names a code, but nothing was filed.
    assert status.tracking_code is None


STREET_LIGHT = [
    Expectation("report_start", category="street_lighting", gives={"place": "kiệt 12 Nguyễn Huệ"}),
    Expectation("report_photo_none"),
    Expectation("report_urgency", urgent=False),
    Expectation("report_confirm"),
]


def test_a_place_dropped_and_a_commune_loop_are_caught():
    # "đèn đường kiệt 12 Nguyễn Huệ…" → "Sự việc ở đâu ạ?"; then "ko có hình" is taken as the
    # address and every answer after as a commune name.
    result = score_conversation(
        conversation(*STREET_LIGHT), records("report_place_lost_loop"), ASPECTS
    )
    assert [ok for _, _, ok in result.turns] == [True, False, False, False]
    assert result.asked_again == ["place"]
    assert result.confirms and not result.reached_code
    _, looping, _ = result.turns[2]
    assert looping.refusals == ["utter_report_commune_unknown"]
    assert looping.requested == "report_commune"


def test_a_filed_report_reaches_its_code_after_the_summary():
    expectations = [
        Expectation("report_start", category="traffic_infrastructure"),
        Expectation("report_place", gives={"place": "số 20 Lê Lợi", "commune": "Thuận Hóa"}),
        Expectation("report_photo_none"),
        Expectation("report_urgency", urgent=True),
        Expectation("report_confirm"),
    ]
    result = score_conversation(
        conversation(*expectations), records("report_filed_urgency_guessed"), ASPECTS
    )
    # The urgency was guessed "normal" and not asked; the citizen's "có, nguy hiểm lắm" at
    # the summary is answered "what to change": wrong. The confirmation files it.
    assert [ok for _, _, ok in result.turns] == [True, True, True, False, True]
    assert result.turns[2][1].summary_shown
    assert result.turns[4][1].tracking_code == "PA-2026-000001"
    assert result.reached_code and result.asked_again == []
    # Without a summary before, a code is not a right confirmation.
    assert not judge(Expectation("report_confirm"), result.turns[4][1], summary_before=False)


def test_a_cancelled_report():
    expectations = [
        Expectation("report_start", category="noise_public_order"),
        Expectation("report_cancel"),
    ]
    result = score_conversation(conversation(*expectations), records("report_cancelled"), ASPECTS)
    assert [ok for _, _, ok in result.turns] == [True, True]
    assert result.turns[1][1].cancelled and not result.turns[1][1].report_active


def bot(utter: str | None = None, text: str = "…", custom: dict | None = None) -> dict:
    event: dict = {"event": "bot", "text": text}
    if utter:
        event["metadata"] = {"utter_action": utter}
    if custom:
        event["data"] = {"custom": custom}
    return event


def user(intent: str) -> dict:
    ranking = [{"name": intent, "confidence": 0.9}]
    return {"event": "user", "parse_data": {"intent": ranking[0], "intent_ranking": ranking}}


def test_a_choice_of_procedures_is_disambiguation():
    record = TurnRecord(
        events=[
            user("ask_procedure_documents"),
            {"event": "action", "name": "action_answer_procedure"},
            bot("utter_procedure_choose"),
            {"event": "slot", "name": "procedure_code", "value": None},
        ]
    )
    outcome = read_turn(record, ASPECTS)
    assert outcome.label == "disambiguation" and outcome.answered_code is None


def test_an_aspect_in_the_answers_custom_field_wins_over_the_intent():
    record = TurnRecord(
        events=[
            user("ask_procedure"),
            {"event": "action", "name": "action_answer_procedure"},
            bot(text="📄 …\nMã thủ tục: 1.001193", custom={"procedure": {"aspect": "fee"}}),
            {"event": "slot", "name": "procedure_code", "value": "1.001193"},
        ]
    )
    outcome = read_turn(record, ASPECTS)
    assert (outcome.answered_code, outcome.answered_aspect) == ("1.001193", "fee")


def test_a_photo_asked_for_again_after_no_photo():
    said_no = TurnRecord(
        events=[
            user("deny"),
            {"event": "action", "name": "report_form"},
            bot("utter_report_photo_expected"),
            {"event": "slot", "name": "requested_slot", "value": "report_photo_step"},
        ],
        before={"active_loop": {"name": "report_form"}},
        after={
            "active_loop": {"name": "report_form"},
            "slots": {"requested_slot": "report_photo_step"},
        },
    )
    outcome = read_turn(said_no, ASPECTS)
    assert not judge(Expectation("report_photo_none"), outcome)
    started = read_turn(TurnRecord(), ASPECTS)
    turns = [
        (Expectation("report_start", category="other"), started),
        (Expectation("report_photo_none"), outcome),
    ]
    assert asked_again(turns) == ["photo"]


def message(ident: str, kind: str, expectation: Expectation, text: str) -> Message:
    return Message(ident, "w", text, kind, expectation)


def test_figures_and_the_report_never_show_a_held_out_text():
    dataset = Dataset(
        "heldout",
        writers=["w"],
        messages=[
            message("m1", "procedure", PROCEDURE, "câu hỏi bí mật số một"),
            message("m2", "out_of_scope", Expectation("out_of_scope"), "câu bí mật số hai"),
            message("m3", "report", Expectation("report_start", category="trees"), "bí mật ba"),
        ],
    )
    outcomes = {
        "m1": first("procedure_documents"),
        "m2": first("out_of_scope"),
        "m3": first("report_asked_back"),
    }
    figures = part_figures(dataset, outcomes, {"m1": "1.001193"}, {"m1": "greet"}, [])
    assert figures["first_reply_right"] == 1.0 and figures["search_top1"] == 1.0
    assert figures["asked_back_in_scope"] == 0.5  # the report, of two in-scope messages
    assert figures["reports_declined_out_of_scope"] == 0.0
    assert figures["intent_accuracy"] == 1.0  # the best guess under nlu_fallback
    assert figures["intent_accuracy_with_fallback"] == pytest.approx(0.6667)
    assert figures["linear_floor_intent_accuracy"] == 0.0
    assert figures["first_reply_outcomes"]["report"]["asked_back"] == 1.0
    run = {"date": "d", "commit": "c", "model": "m", "parts": {"heldout": figures}}
    written = render_markdown(run) + json.dumps(figures, ensure_ascii=False)
    assert "bí mật" not in written and "m1" not in written


def test_invalid_items_are_named_by_id_never_by_text(tmp_path: Path):
    folder = tmp_path / "tuning" / "w"
    folder.mkdir(parents=True)
    (folder / "messages.yml").write_text(
        "messages:\n"
        "  - {id: w-m1, text: 'văn bản kín', kind: procedure, codes: ['1.001193'], aspect: cost}\n"
        "  - {id: w-m2, text: 'chào', kind: smalltalk, act: greet}\n",
        encoding="utf-8",
    )
    dataset = load_part(tmp_path, "tuning")
    assert [m.id for m in dataset.messages] == ["w-m2"]
    assert dataset.invalid == ["w-m1: aspect 'cost'"]
    (folder / "conversations.yml").write_text("conversations:\n  - id: [văn bản kín\n")
    with pytest.raises(DataError) as error:
        load_part(tmp_path, "tuning")
    assert "văn bản kín" not in str(error.value) and "line" in str(error.value)


def test_the_split_is_stable_near_40_60_and_prints_no_item(tmp_path: Path, capsys):
    ids = [f"x-m{n:03d}" for n in range(1000)]
    parts = [split_blind_set.part_of(i) for i in ids]
    assert 0.35 < parts.count("tuning") / len(ids) < 0.45
    assert parts == [split_blind_set.part_of(i) for i in ids]
    source = tmp_path / "A"
    source.mkdir()
    items = [{"id": i, "text": f"tin nhắn riêng {i}", "kind": "out_of_scope"} for i in ids[:30]]
    (source / "messages.yml").write_text(
        json.dumps({"writer": "A", "messages": items}, ensure_ascii=False), encoding="utf-8"
    )
    assert split_blind_set.main([str(source), "--out", str(tmp_path / "out")]) == 0
    assert "tin nhắn riêng" not in capsys.readouterr().out
    tuning = load_part(tmp_path / "out", "tuning").messages
    heldout = load_part(tmp_path / "out", "heldout").messages
    assert sorted(m.id for m in tuning + heldout) == ids[:30]
    assert {m.id for m in tuning} == {i for i in ids[:30] if split_blind_set.part_of(i) == "tuning"}


@pytest.mark.parametrize(
    "action", ["action_weigh_unclear", "action_acknowledge_place", "report_form"]
)
def test_an_answer_given_by_an_action_that_hands_over_to_the_answer_counts(action: str):
    # The weighing of an unclear message and the place action answer through
    # ActionAnswerProcedure inside their own run: the answer is theirs in the tracker.
    record = TurnRecord(
        events=[
            user("nlu_fallback"),
            {"event": "action", "name": action},
            bot(
                text="📄 …\nMã thủ tục: 1.001193",
                custom={"procedure": {"code": "1.001193", "aspect": "place"}},
            ),
            {"event": "slot", "name": "procedure_code", "value": "1.001193"},
        ]
    )
    outcome = read_turn(record, ASPECTS)
    assert outcome.label == "answered"
    assert (outcome.answered_code, outcome.answered_aspect) == ("1.001193", "place")


def test_a_question_asked_by_the_weighing_action_is_not_an_answer():
    record = TurnRecord(
        events=[
            user("out_of_scope"),
            {"event": "action", "name": "action_weigh_unclear"},
            bot(text="Bạn muốn gửi phản ánh về «Cây xanh» không?"),
        ]
    )
    assert read_turn(record, ASPECTS).answered_code is None
