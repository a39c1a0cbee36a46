"""The report lifecycle: states, who may move a report between them, and the rules of each move.

Every state change goes through ``check_transition`` (one place), and the caller records
it with actor and time. States (DESIGN.md): received → assigned → in progress → (extended)
→ resolved | rejected | transferred | duplicate; a resolved report is then rated or
reopened. What the citizen sees is this state; delivery of notifications is tracked apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    EXTENDED = "extended"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    TRANSFERRED = "transferred"
    DUPLICATE = "duplicate"
    RATED = "rated"
    REOPENED = "reopened"


class Actor(StrEnum):
    SYSTEM = "system"  # routing at intake, deadlines
    CITIZEN = "citizen"  # the reporter
    AGENCY = "agency"  # staff of the agency the report is assigned to
    OPERATOR = "operator"  # operations centre staff: see and reassign everything


# Vietnamese labels the citizen and staff see.
STATE_LABELS = {
    State.RECEIVED: "đã tiếp nhận",
    State.ASSIGNED: "đã chuyển đơn vị xử lý",
    State.IN_PROGRESS: "đang xử lý",
    State.EXTENDED: "đang xử lý (đã gia hạn)",
    State.RESOLVED: "đã xử lý xong",
    State.REJECTED: "không thuộc phạm vi xử lý",
    State.TRANSFERRED: "đã chuyển đơn vị khác",
    State.DUPLICATE: "trùng với phản ánh khác",
    State.RATED: "đã đánh giá",
    State.REOPENED: "được mở lại",
}
OPEN_STATES = frozenset(
    {State.RECEIVED, State.ASSIGNED, State.IN_PROGRESS, State.EXTENDED, State.REOPENED}
)
_STAFF = frozenset({Actor.AGENCY, Actor.OPERATOR})


@dataclass(frozen=True)
class Move:
    to: State
    by: frozenset[Actor]
    needs_reason: bool = False  # a Vietnamese explanation stored with the change
    needs_agency: bool = False  # the move names the agency that now handles the report
    needs_duplicate_of: bool = False


TRANSITIONS: dict[State, dict[State, Move]] = {
    State.RECEIVED: {
        State.ASSIGNED: Move(
            State.ASSIGNED, frozenset({Actor.SYSTEM, Actor.OPERATOR}), needs_agency=True
        ),
        State.DUPLICATE: Move(State.DUPLICATE, _STAFF | {Actor.SYSTEM}, needs_duplicate_of=True),
        State.REJECTED: Move(State.REJECTED, frozenset({Actor.OPERATOR}), needs_reason=True),
    },
    State.ASSIGNED: {
        State.IN_PROGRESS: Move(State.IN_PROGRESS, _STAFF),
        State.TRANSFERRED: Move(State.TRANSFERRED, _STAFF, needs_reason=True, needs_agency=True),
        State.REJECTED: Move(State.REJECTED, _STAFF, needs_reason=True),
        State.DUPLICATE: Move(State.DUPLICATE, _STAFF, needs_duplicate_of=True),
        State.RESOLVED: Move(State.RESOLVED, _STAFF, needs_reason=True),
    },
    State.IN_PROGRESS: {
        State.EXTENDED: Move(State.EXTENDED, _STAFF, needs_reason=True),
        State.RESOLVED: Move(State.RESOLVED, _STAFF, needs_reason=True),
        State.TRANSFERRED: Move(State.TRANSFERRED, _STAFF, needs_reason=True, needs_agency=True),
        State.REJECTED: Move(State.REJECTED, _STAFF, needs_reason=True),
        State.DUPLICATE: Move(State.DUPLICATE, _STAFF, needs_duplicate_of=True),
    },
    State.EXTENDED: {
        State.EXTENDED: Move(State.EXTENDED, _STAFF, needs_reason=True),
        State.RESOLVED: Move(State.RESOLVED, _STAFF, needs_reason=True),
        State.TRANSFERRED: Move(State.TRANSFERRED, _STAFF, needs_reason=True, needs_agency=True),
        State.REJECTED: Move(State.REJECTED, _STAFF, needs_reason=True),
    },
    # A transfer hands the report to another agency, which then holds it as assigned.
    State.TRANSFERRED: {
        State.ASSIGNED: Move(State.ASSIGNED, _STAFF | {Actor.SYSTEM}, needs_agency=True),
    },
    State.RESOLVED: {
        State.RATED: Move(State.RATED, frozenset({Actor.CITIZEN})),
        State.REOPENED: Move(
            State.REOPENED, frozenset({Actor.CITIZEN, Actor.OPERATOR}), needs_reason=True
        ),
    },
    State.REJECTED: {
        State.REOPENED: Move(State.REOPENED, frozenset({Actor.OPERATOR}), needs_reason=True),
    },
    State.REOPENED: {
        State.ASSIGNED: Move(State.ASSIGNED, _STAFF | {Actor.SYSTEM}, needs_agency=True),
        State.IN_PROGRESS: Move(State.IN_PROGRESS, _STAFF),
    },
    State.DUPLICATE: {},
    State.RATED: {},
}


class TransitionError(ValueError):
    """A move the lifecycle does not allow; ``message`` is Vietnamese, for staff or citizen."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_transition(
    current: State,
    to: State,
    actor: Actor,
    *,
    reason: str | None = None,
    agency: str | None = None,
    duplicate_of: str | None = None,
) -> Move:
    """The move from ``current`` to ``to`` by ``actor``, or TransitionError saying why not."""
    move = TRANSITIONS[current].get(to)
    if move is None:
        raise TransitionError(
            "transition_not_allowed",
            f"Không thể chuyển phản ánh từ trạng thái «{STATE_LABELS[current]}» "
            f"sang «{STATE_LABELS[to]}».",
        )
    if actor not in move.by:
        raise TransitionError(
            "not_permitted", f"Bạn không có quyền chuyển phản ánh sang «{STATE_LABELS[to]}»."
        )
    if move.needs_reason and not (reason and reason.strip()):
        raise TransitionError("reason_required", "Vui lòng nêu lý do hoặc nội dung trả lời.")
    if move.needs_agency and not agency:
        raise TransitionError("agency_required", "Vui lòng chọn đơn vị xử lý.")
    if move.needs_duplicate_of and not duplicate_of:
        raise TransitionError(
            "duplicate_of_required", "Vui lòng nêu mã phản ánh mà phản ánh này trùng với."
        )
    return move
