"""Every allowed and every forbidden move of the report lifecycle."""

from __future__ import annotations

import itertools

import pytest

from bot.reports.lifecycle import (
    OPEN_STATES,
    STATE_LABELS,
    TRANSITIONS,
    Actor,
    State,
    TransitionError,
    check_transition,
)

S, A = State, Actor
STAFF = {A.AGENCY, A.OPERATOR}
# The lifecycle written out by hand: (from, to) → who may make the move.
ALLOWED = {
    (S.RECEIVED, S.ASSIGNED): {A.SYSTEM, A.OPERATOR},
    (S.RECEIVED, S.DUPLICATE): STAFF | {A.SYSTEM},
    (S.RECEIVED, S.REJECTED): {A.OPERATOR},
    (S.ASSIGNED, S.IN_PROGRESS): STAFF,
    (S.ASSIGNED, S.TRANSFERRED): STAFF,
    (S.ASSIGNED, S.REJECTED): STAFF,
    (S.ASSIGNED, S.DUPLICATE): STAFF,
    (S.ASSIGNED, S.RESOLVED): STAFF,
    (S.IN_PROGRESS, S.EXTENDED): STAFF,
    (S.IN_PROGRESS, S.RESOLVED): STAFF,
    (S.IN_PROGRESS, S.TRANSFERRED): STAFF,
    (S.IN_PROGRESS, S.REJECTED): STAFF,
    (S.IN_PROGRESS, S.DUPLICATE): STAFF,
    (S.EXTENDED, S.EXTENDED): STAFF,
    (S.EXTENDED, S.RESOLVED): STAFF,
    (S.EXTENDED, S.TRANSFERRED): STAFF,
    (S.EXTENDED, S.REJECTED): STAFF,
    (S.TRANSFERRED, S.ASSIGNED): STAFF | {A.SYSTEM},
    (S.RESOLVED, S.RATED): {A.CITIZEN},
    (S.RESOLVED, S.REOPENED): {A.CITIZEN, A.OPERATOR},
    (S.REJECTED, S.REOPENED): {A.OPERATOR},
    (S.REOPENED, S.ASSIGNED): STAFF | {A.SYSTEM},
    (S.REOPENED, S.IN_PROGRESS): STAFF,
}
EVERYTHING = dict(
    reason="Đã kiểm tra hiện trường.", agency="ubnd_thuan_hoa", duplicate_of="PA-2026-000001"
)


def test_the_table_in_the_code_is_the_lifecycle_written_here():
    in_code = {(a, b): set(m.by) for a, moves in TRANSITIONS.items() for b, m in moves.items()}
    assert in_code == ALLOWED
    assert set(TRANSITIONS) == set(State) == set(STATE_LABELS)


@pytest.mark.parametrize(
    ("current", "to", "actor"), list(itertools.product(State, State, Actor)), ids=str
)
def test_every_move_is_allowed_or_refused_as_written(current, to, actor):
    if actor in ALLOWED.get((current, to), set()):
        assert check_transition(current, to, actor, **EVERYTHING).to is to
    else:
        with pytest.raises(TransitionError) as refused:
            check_transition(current, to, actor, **EVERYTHING)
        expected = "not_permitted" if (current, to) in ALLOWED else "transition_not_allowed"
        assert refused.value.code == expected
        assert refused.value.message  # a Vietnamese sentence for the person who tried


def test_an_extension_needs_a_reason():
    with pytest.raises(TransitionError) as refused:
        check_transition(S.IN_PROGRESS, S.EXTENDED, A.AGENCY, reason="  ")
    assert refused.value.code == "reason_required"
    assert refused.value.message == "Vui lòng nêu lý do hoặc nội dung trả lời."


def test_resolving_needs_a_reply_and_a_transfer_needs_the_new_agency():
    with pytest.raises(TransitionError, match="lý do hoặc nội dung trả lời"):
        check_transition(S.IN_PROGRESS, S.RESOLVED, A.AGENCY)
    with pytest.raises(TransitionError) as refused:
        check_transition(S.ASSIGNED, S.TRANSFERRED, A.AGENCY, reason="Không thuộc địa bàn.")
    assert refused.value.code == "agency_required"


def test_a_duplicate_names_the_report_it_repeats():
    with pytest.raises(TransitionError) as refused:
        check_transition(S.RECEIVED, S.DUPLICATE, A.SYSTEM)
    assert refused.value.code == "duplicate_of_required"


def test_a_forbidden_move_is_explained_with_both_states():
    with pytest.raises(TransitionError) as refused:
        check_transition(S.RATED, S.REOPENED, A.CITIZEN, reason="Chưa sửa.")
    assert refused.value.message == (
        "Không thể chuyển phản ánh từ trạng thái «đã đánh giá» sang «được mở lại»."
    )


def test_open_states_are_those_still_being_worked_on():
    assert OPEN_STATES == {S.RECEIVED, S.ASSIGNED, S.IN_PROGRESS, S.EXTENDED, S.REOPENED}
