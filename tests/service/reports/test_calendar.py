"""Working-time deadlines across weekends, Tết and an extension."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.reports.calendar import LOCAL, WorkingCalendar

# Tết Bính Ngọ 2026 for this test: Saturday 14 to Sunday 22 February (the test states
# its own holidays; the data files are checked separately).
TET_2026 = frozenset(date(2026, 2, d) for d in range(14, 23))
CALENDAR = WorkingCalendar(holidays=TET_2026 | {date(2026, 4, 30), date(2026, 5, 1)})


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def test_working_days_skip_the_weekend():
    friday = local(2026, 11, 20, 10, 0)
    assert CALENDAR.add_working_days(friday, 3) == local(2026, 11, 25, 17, 0)  # Wednesday


def test_working_days_skip_tet():
    before_tet = local(2026, 2, 12, 9, 0)  # Thursday
    # Friday 13 is day 1; Tết runs to Sunday 22; Monday 23 and Tuesday 24 are days 2 and 3.
    assert CALENDAR.add_working_days(before_tet, 3) == local(2026, 2, 24, 17, 0)


def test_working_days_skip_30_4_and_1_5():
    wednesday = local(2026, 4, 29, 15, 0)
    assert CALENDAR.add_working_days(wednesday, 1) == local(2026, 5, 4, 17, 0)  # Monday


def test_a_report_made_on_sunday_counts_from_monday():
    sunday = local(2026, 11, 22, 20, 0)
    assert CALENDAR.add_working_days(sunday, 1) == local(2026, 11, 23, 17, 0)


def test_working_hours_stop_at_lunch_and_at_night():
    morning = local(2026, 11, 23, 10, 0)  # Monday
    # 1.5 h before lunch, 3.5 h in the afternoon, then 3 h on Tuesday morning.
    assert CALENDAR.add_working_hours(morning, 8) == local(2026, 11, 24, 10, 30)


def test_working_hours_from_friday_evening_resume_on_monday():
    evening = local(2026, 11, 20, 18, 0)
    assert CALENDAR.add_working_hours(evening, 4) == local(2026, 11, 23, 11, 30)


def test_working_hours_keep_the_callers_time_zone():
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Huế
    due = CALENDAR.add_working_hours(start, 2)
    assert due.tzinfo is UTC and due == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_an_extension_adds_working_days_to_the_current_deadline():
    due = CALENDAR.add_working_days(local(2026, 2, 10, 9, 0), 3)  # Tue → Fri 13 (before Tết)
    assert due == local(2026, 2, 13, 17, 0)
    extended = CALENDAR.add_working_days(due, 5)  # Tết skipped: Mon 23 … Fri 27
    assert extended == local(2026, 2, 27, 17, 0)
    assert CALENDAR.working_days_between(due.date(), extended.date()) == 5


def test_naive_times_and_nonsense_are_refused():
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(datetime(2026, 1, 5, 9, 0), 1)
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(local(2026, 1, 5, 9, 0), 0)


def test_a_saturday_worked_in_lieu_counts_as_a_working_day(tmp_path):
    (tmp_path / "2026.yml").write_text(
        "holidays:\n  - {date: 2026-01-02}\nworking_weekend_days:\n  - {date: 2026-01-10}\n",
        encoding="utf-8",
    )
    calendar = WorkingCalendar.load([2026], directory=tmp_path)
    assert calendar.is_working_day(date(2026, 1, 10))
    friday = local(2026, 1, 9, 9, 0)
    assert calendar.add_working_days(friday, 1) == local(2026, 1, 10, 17, 0)


def test_holidays_load_from_the_yearly_files(tmp_path):
    (tmp_path / "2026.yml").write_text(
        "holidays:\n  - {date: 2026-01-01, name: Tết Dương lịch}\n  - 2026-09-02\n",
        encoding="utf-8",
    )
    calendar = WorkingCalendar.load([2026, 2027], directory=tmp_path)
    assert calendar.holidays == {date(2026, 1, 1), date(2026, 9, 2)}
    assert not calendar.is_working_day(date(2026, 1, 1))
    assert calendar.is_working_day(date(2026, 1, 2))
    assert calendar.add_working_days(local(2025, 12, 31, 9, 0), 1) == local(2026, 1, 2, 17, 0)
