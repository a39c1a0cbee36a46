"""Deadlines in working time: Monday to Friday, office hours, minus public holidays.

Vietnamese agencies count report deadlines in working days or working hours (iHanoi: 8
working hours to acknowledge; Đà Nẵng: 3 working days to reply). Holidays come from
data/catalog/holidays/<year>.yml; office hours are configurable (the defaults, 7:30–11:30
and 13:30–17:00 local time, are the project's, to be confirmed by the operator).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.settings import ROOT

HOLIDAYS_DIR = ROOT / "data" / "catalog" / "holidays"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    # Weekend days worked to make up for a day off moved next to a holiday.
    workdays: frozenset[date] = frozenset()
    # Office hours as (start, end) intervals within a working day, local time.
    hours: tuple[tuple[time, time], ...] = field(
        default=((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    )
    zone: ZoneInfo = LOCAL

    @classmethod
    def load(cls, years: Iterable[int], directory: Path = HOLIDAYS_DIR) -> WorkingCalendar:
        days: set[date] = set()
        worked: set[date] = set()
        for year in years:
            path = directory / f"{year}.yml"
            if not path.exists():
                continue
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for key, into in (("holidays", days), ("working_weekend_days", worked)):
                for item in raw.get(key) or []:
                    value = item["date"] if isinstance(item, dict) else item
                    into.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        return cls(holidays=frozenset(days), workdays=frozenset(worked))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, a, self.zone), datetime.combine(day, b, self.zone))
            for a, b in self.hours
        ]

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of office time after ``start`` (which may be out of hours)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = timedelta(hours=hours)
        moment = start.astimezone(self.zone)
        day = moment.date()
        for _ in range(3660):  # ten years of days: a bound, never reached in practice
            for begin, end in self._intervals(day):
                if moment >= end:
                    continue
                moment = max(moment, begin)
                available = end - moment
                if remaining <= available:
                    return (moment + remaining).astimezone(start.tzinfo)
                remaining -= available
                moment = end
            day += timedelta(days=1)
        raise ValueError("no working time found within ten years")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of office hours on the ``days``-th working day after ``start``'s day.

        A report received on Friday with 3 working days is due at closing time on the
        following Wednesday (Thursday when Monday is a holiday).
        """
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if days < 1:
            raise ValueError("days must be at least 1")
        day = start.astimezone(self.zone).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        closing = max(end for _, end in self.hours)
        return datetime.combine(day, closing, self.zone).astimezone(start.tzinfo)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count
