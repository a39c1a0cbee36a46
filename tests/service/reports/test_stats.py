"""GET /api/v1/staff/stats (SQLite and PostgreSQL): on time, after an extension, late, open
and overdue, per agency, over a period; agency staff see their own agency only."""

from __future__ import annotations

from datetime import timedelta

from bot.db import utcnow
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import Actor, State
from bot.reports.service import ReportDraft, change_state, submit_report
from tests.service.conftest import staff_login

DAY = timedelta(days=1)


def file(session, filed_at, commune: str = "Thuận Hóa"):
    return submit_report(
        session,
        ReportDraft(description="Đèn đường tắt cả tuần nay", reporter_id="web:stats",
                    channel="web", commune=commune),
        default_catalog(), WorkingCalendar(), now=filed_at,
    )  # fmt: skip


def resolve(session, report, at):
    change_state(session, report, State.RESOLVED, Actor.AGENCY, message="Đã sửa xong", now=at)


def test_on_time_or_late_per_agency_over_the_period(world):
    client, factory = world["client"], world["factory"]
    filed = utcnow() - 10 * DAY
    with factory() as session:
        resolve(session, file(session, filed), filed + timedelta(hours=2))  # on time
        extended = file(session, filed)
        change_state(session, extended, State.IN_PROGRESS, Actor.AGENCY, now=filed + DAY)
        change_state(session, extended, State.EXTENDED, Actor.AGENCY, message="Chờ vật tư",
                     extension_days=10, calendar=WorkingCalendar(), now=filed + DAY)  # fmt: skip
        resolve(session, extended, filed + 5 * DAY)  # by the extended deadline
        resolve(session, file(session, filed), filed + 9 * DAY)  # after its deadline
        file(session, filed)  # still open, past its deadline
        file(session, utcnow() - 40 * DAY)  # filed before the period: not counted

    operator = client.get("/api/v1/staff/stats?days=30", headers=staff_login(client, "ioc"))
    assert operator.status_code == 200, operator.text
    rows = {row["agency_code"]: row for row in operator.json()["agencies"]}
    assert rows["ubnd_thuan_hoa"] == {
        "agency_code": "ubnd_thuan_hoa",
        "received": 5,  # the four above and the world's own, filed just now
        "resolved_on_time": 1,
        "resolved_after_extension": 1,
        "resolved_late": 1,
        "open": 2,
        "overdue": 1,
        "on_time_rate": 0.333,
    }
    assert rows["ubnd_vy_da"]["received"] == 1 and rows["ubnd_vy_da"]["on_time_rate"] is None
    assert operator.json()["agencies"][0]["agency_code"] == "ubnd_thuan_hoa"  # most overdue first

    # Agency staff: their agency only.
    minh = client.get("/api/v1/staff/stats", headers=staff_login(client, "minh"))
    assert [row["agency_code"] for row in minh.json()["agencies"]] == ["ubnd_vy_da"]


def test_a_period_out_of_range_is_refused_in_vietnamese(world):
    client = world["client"]
    response = client.get("/api/v1/staff/stats?days=0", headers=staff_login(client, "ioc"))
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("Dữ liệu gửi lên không hợp lệ")
