"""Reports in the database (SQLite and PostgreSQL): submit, route, deadline, duplicates, moves."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.reports.calendar import LOCAL, WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import Actor, State, TransitionError
from bot.reports.models import Report
from bot.reports.service import (
    ReportDraft,
    ReportError,
    change_state,
    find_duplicates,
    submit_report,
)

CALENDAR = WorkingCalendar(holidays=frozenset({date(2026, 11, 23)}))
FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=LOCAL)
LIGHT = ReportDraft(
    description="Đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi",
    reporter_id="web:citizen-1",
    channel="web",
    commune="Thuận Hóa",
    address="Kiệt 45 Phan Đình Phùng",
    latitude=16.4637,
    longitude=107.5909,
)


@pytest.fixture
def session(database_url):
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as s:
        yield s


def submit(session, draft=LIGHT, now=FRIDAY) -> Report:
    return submit_report(session, draft, default_catalog(), CALENDAR, now=now)


def test_a_report_is_stored_routed_and_given_a_code_and_deadline(session, database_url):
    report = submit(session)
    assert report.code == f"PA-2026-{report.id:06d}"
    assert (report.category, report.urgency) == ("street_lighting", "normal")
    assert (report.state, report.agency_code, report.routing_rule) == (
        State.ASSIGNED,
        "ubnd_thuan_hoa",
        "commune",
    )
    assert report.routing_reason.startswith("Chiếu sáng công cộng trong phường Thuận Hóa")
    # 3 working days from Friday; Monday 23 is a holiday here.
    assert report.deadline_at == datetime(2026, 11, 26, 17, 0, tzinfo=LOCAL)
    assert [(u.from_state, u.to_state, u.actor) for u in report.updates] == [
        (None, State.RECEIVED, Actor.CITIZEN),
        (State.RECEIVED, State.ASSIGNED, Actor.SYSTEM),
    ]
    # Committed: another connection sees it, with the deadline at the same instant (SQLite
    # once dropped the +07:00 offset and read 17:00 in Huế back as 17:00 UTC).
    with make_sessionmaker(make_engine(database_url))() as other:
        assert other.scalars(select(Report.code)).one() == report.code
        assert other.scalars(select(Report.deadline_at)).one() == report.deadline_at


def test_a_report_about_danger_is_urgent_with_a_shorter_deadline(session):
    report = submit(
        session,
        ReportDraft(
            description="Dây điện đứt rơi xuống đường, nguy hiểm lắm",
            reporter_id="web:2",
            channel="web",
            commune="Thuận Hóa",
            category="street_lighting",
        ),
    )
    assert report.urgency == "urgent"
    assert report.deadline_at < datetime(2026, 11, 26, 17, 0, tzinfo=LOCAL)


def test_a_report_nobody_covers_goes_to_the_operations_centre(session):
    report = submit(
        session,
        ReportDraft(description="Có chuyện lạ xảy ra ở đây", reporter_id="web:3", channel="web"),
    )
    assert (report.category, report.agency_code, report.routing_rule) == (None, "ioc", "fallback")
    assert report.deadline_at is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"description": "ơ"}, "description_too_short"),
        ({"description": "x" * 2001}, "description_too_long"),
        ({"category": "weather"}, "unknown_category"),
        ({"latitude": 16.4, "longitude": None}, "invalid_location"),
        ({"latitude": 123.0, "longitude": 107.0}, "invalid_location"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(session, change, code):
    fields = {**LIGHT.__dict__, **change}
    with pytest.raises(ReportError) as refused:
        submit(session, ReportDraft(**fields))
    assert refused.value.code == code
    session.rollback()
    assert session.scalars(select(Report)).all() == []


def test_an_open_report_nearby_is_a_duplicate(session):
    first = submit(session)
    nearby = ReportDraft(
        description="den duong o day tat roi",
        reporter_id="web:other",
        channel="web",
        latitude=16.46372,
        longitude=107.59095,
    )
    assert [r.code for r in find_duplicates(session, nearby, "street_lighting")] == [first.code]
    same_address = ReportDraft(
        description="đèn tắt",
        reporter_id="web:other",
        channel="web",
        commune="Thuận Hóa",
        address="kiet 45 phan dinh phung",
    )
    assert find_duplicates(session, same_address, "street_lighting") == [first]
    far = ReportDraft(
        description="đèn tắt", reporter_id="web:x", channel="web", latitude=16.47, longitude=107.60
    )
    assert find_duplicates(session, far, "street_lighting") == []
    assert find_duplicates(session, nearby, "trees") == []


def test_a_closed_report_is_not_a_duplicate(session):
    first = submit(session)
    change_state(session, first, State.IN_PROGRESS, Actor.AGENCY, actor_id="staff:1")
    change_state(
        session, first, State.RESOLVED, Actor.AGENCY, actor_id="staff:1", message="Đã thay bóng."
    )
    assert find_duplicates(session, LIGHT, "street_lighting") == []


def test_the_whole_life_of_a_report_is_recorded(session):
    report = submit(session)
    change_state(session, report, State.IN_PROGRESS, Actor.AGENCY, actor_id="staff:7")
    before = report.deadline_at
    change_state(
        session,
        report,
        State.EXTENDED,
        Actor.AGENCY,
        actor_id="staff:7",
        message="Chờ vật tư thay thế.",
        extension_days=5,
        calendar=CALENDAR,
    )
    assert report.deadline_at > before
    change_state(
        session, report, State.RESOLVED, Actor.AGENCY, actor_id="staff:7", message="Đã sửa xong."
    )
    assert report.resolved_at is not None
    change_state(session, report, State.RATED, Actor.CITIZEN, actor_id=report.reporter_id, rating=5)
    assert report.rating == 5
    assert [u.to_state for u in report.updates] == [
        State.RECEIVED,
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.EXTENDED,
        State.RESOLVED,
        State.RATED,
    ]
    assert report.updates[3].message == "Chờ vật tư thay thế."
    assert report.updates[3].actor_id == "staff:7"


def test_a_transfer_hands_the_report_to_the_other_agency(session):
    report = submit(session)
    change_state(
        session,
        report,
        State.TRANSFERRED,
        Actor.OPERATOR,
        actor_id="staff:ioc",
        message="Tuyến đường do thành phố quản lý.",
        agency="so_xay_dung",
    )
    assert (report.state, report.agency_code) == (State.ASSIGNED, "so_xay_dung")
    assert [u.to_state for u in report.updates][-2:] == [State.TRANSFERRED, State.ASSIGNED]


def test_a_refused_move_changes_nothing(session):
    report = submit(session)
    with pytest.raises(TransitionError):
        change_state(session, report, State.RATED, Actor.CITIZEN, rating=5)
    with pytest.raises(TransitionError):
        change_state(session, report, State.EXTENDED, Actor.AGENCY, message="Chưa bắt đầu.")
    session.rollback()
    fresh = session.get(Report, report.id)
    assert fresh.state is State.ASSIGNED and len(fresh.updates) == 2


def test_a_rating_must_be_one_to_five_and_an_extension_needs_days(session):
    report = submit(session)
    change_state(session, report, State.IN_PROGRESS, Actor.AGENCY)
    with pytest.raises(TransitionError) as refused:
        change_state(
            session, report, State.EXTENDED, Actor.AGENCY, message="Chờ vật tư.", calendar=CALENDAR
        )
    assert refused.value.code == "extension_days_required"
    session.rollback()
    change_state(session, report, State.RESOLVED, Actor.AGENCY, message="Xong.")
    with pytest.raises(TransitionError) as refused:
        change_state(session, report, State.RATED, Actor.CITIZEN, rating=9)
    assert refused.value.message == "Bạn chấm từ 1 đến 5 sao nhé."


def test_a_duplicate_points_to_the_report_it_repeats(session):
    first = submit(session)
    second = submit(session, ReportDraft(**{**LIGHT.__dict__, "reporter_id": "web:9"}))
    change_state(session, second, State.DUPLICATE, Actor.AGENCY, duplicate_of=first)
    assert (second.state, second.duplicate_of_id) == (State.DUPLICATE, first.id)
