"""Reports past their deadline (SQLite and PostgreSQL): announced once per deadline, to the
agency, the operations centre and the citizens; shown and listed to staff."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.outbox.models import Channel, OutboxMessage
from bot.reports.calendar import LOCAL, WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import Actor, State
from bot.reports.models import Report
from bot.reports.overdue import remind_overdue
from bot.reports.service import ReportDraft, change_state, submit_report
from tests.service.conftest import staff_login

CALENDAR = WorkingCalendar(holidays=frozenset({date(2026, 11, 23)}))
FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=LOCAL)
# 3 working days from Friday 20, Monday 23 a holiday here: Thursday 26 at 17:00.
DEADLINE = datetime(2026, 11, 26, 17, 0, tzinfo=LOCAL)
MINUTE = timedelta(minutes=1)


def _catalog():
    """The real catalog, with contacts for the commune and the operations centre (IOC)."""
    base = default_catalog()
    commune = replace(
        base.agencies["ubnd_thuan_hoa"], email="thuanhoa@example.vn", telegram_chat_id="-1001"
    )
    ioc = replace(base.agencies["ioc"], webhook_url="http://127.0.0.1:9/ioc")
    return replace(base, agencies={**base.agencies, commune.code: commune, ioc.code: ioc})


CATALOG = _catalog()


@pytest.fixture
def factory(database_url):
    return make_sessionmaker(make_engine(database_url))


def submit(factory, commune: str | None = "Thuận Hóa", reporter: str = "telegram:1001") -> str:
    with factory() as session:
        report = submit_report(
            session,
            ReportDraft(description="Đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi",
                        reporter_id=reporter, channel="telegram", commune=commune),
            CATALOG, CALENDAR, now=FRIDAY,
        )  # fmt: skip
        session.query(OutboxMessage).delete()  # the new-report notices are not under test
        session.commit()
        return str(report.code)


def notices(factory) -> list[OutboxMessage]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_late_report_is_announced_once_to_agency_operations_centre_and_citizen(factory):
    code = submit(factory)
    assert remind_overdue(factory, catalog=CATALOG, now=DEADLINE - MINUTE) == []
    assert notices(factory) == []

    assert remind_overdue(factory, catalog=CATALOG, now=DEADLINE + MINUTE) == [code]
    sent = notices(factory)
    assert [(m.channel, m.target) for m in sent] == [
        (Channel.EMAIL, "thuanhoa@example.vn"),
        (Channel.TELEGRAM, "-1001"),
        (Channel.WEBHOOK, "http://127.0.0.1:9/ioc"),
        (Channel.TELEGRAM, "1001"),  # the reporter, in their own Telegram chat
    ]
    assert {m.body["event"] for m in sent} == {"report.overdue"}
    assert sent[0].subject == f"Phản ánh quá hạn {code}"
    staff_text = sent[0].body["text"]
    assert staff_text.startswith(f"Phản ánh {code} đã quá hạn xử lý (hạn 17:00 ngày 26/11/2026).")
    assert "Đơn vị đang xử lý: Ủy ban nhân dân phường Thuận Hóa." in staff_text
    assert "telegram:1001" not in str(sent[0].body)  # agencies never see who reported
    assert sent[3].body["text"] == (
        f"Phản ánh {code} của bạn đã quá hạn xử lý (hạn 17:00 ngày 26/11/2026). Hệ thống đã "
        "nhắc Ủy ban nhân dân phường Thuận Hóa và Trung tâm Giám sát, điều hành đô thị thông "
        "minh thành phố Huế. Bạn sẽ được báo ngay khi có kết quả."
    )

    # Later sweeps, or a second worker, announce nothing more for this deadline.
    assert remind_overdue(factory, catalog=CATALOG, now=DEADLINE + 2 * MINUTE) == []
    assert remind_overdue(factory, catalog=CATALOG, now=DEADLINE + timedelta(days=3)) == []
    assert len(notices(factory)) == 4


def test_the_citizen_is_not_told_of_reminders_no_one_could_receive(factory):
    """The shipped catalog has no confirmed agency contacts yet: nobody is said to be reminded."""
    code = submit(factory)
    assert remind_overdue(factory, catalog=default_catalog(), now=DEADLINE + MINUTE) == [code]
    [notice] = notices(factory)
    assert (notice.channel, notice.target) == (Channel.TELEGRAM, "1001")
    assert notice.body["text"] == (
        f"Phản ánh {code} của bạn đã quá hạn xử lý (hạn 17:00 ngày 26/11/2026). "
        "Bạn sẽ được báo ngay khi có kết quả."
    )


def test_an_extended_deadline_is_announced_again_only_when_it_passes_too(factory):
    code = submit(factory)
    assert remind_overdue(factory, catalog=CATALOG, now=DEADLINE + MINUTE) == [code]
    late = DEADLINE + timedelta(hours=1)
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        change_state(session, report, State.IN_PROGRESS, Actor.AGENCY, now=late)
        change_state(session, report, State.EXTENDED, Actor.AGENCY, message="Chờ thay bóng",
                     extension_days=2, calendar=CALENDAR, now=late)  # fmt: skip
        new_deadline = report.deadline_at
    assert new_deadline > late
    before = len(notices(factory))
    assert remind_overdue(factory, catalog=CATALOG, now=new_deadline - MINUTE) == []
    assert remind_overdue(factory, catalog=CATALOG, now=new_deadline + MINUTE) == [code]
    again = notices(factory)[before:]
    assert {m.body["event"] for m in again} == {"report.overdue"}
    assert "(hạn " in again[0].body["text"] and again[0].body["state"] == "extended"


def test_a_report_resolved_in_time_or_late_is_never_announced(factory):
    code = submit(factory)
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        change_state(session, report, State.RESOLVED, Actor.AGENCY, message="Đã thay bóng đèn",
                     now=DEADLINE + timedelta(hours=2))  # fmt: skip
    count = len(notices(factory))
    assert remind_overdue(factory, catalog=CATALOG, now=DEADLINE + timedelta(days=1)) == []
    assert len(notices(factory)) == count


def test_a_report_the_operations_centre_holds_tells_it_once(factory):
    code = submit(factory, commune=None, reporter="web:" + "c" * 32)  # unroutable → IOC
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        assert report.agency_code == "ioc"
        deadline = report.deadline_at
    assert remind_overdue(factory, catalog=CATALOG, now=deadline + MINUTE) == [code]
    # One webhook call to the centre; a guest web chat has no push channel.
    assert [(m.channel, m.target) for m in notices(factory)] == [
        (Channel.WEBHOOK, "http://127.0.0.1:9/ioc")
    ]


def test_staff_see_which_reports_are_late_and_list_them_most_late_first(world):
    client, factory = world["client"], world["factory"]
    thuan_hoa, vy_da = world["codes"]
    with factory() as session:
        for code, days_late in ((thuan_hoa, 1), (vy_da, 3)):
            report = session.scalars(select(Report).where(Report.code == code)).one()
            report.deadline_at = datetime.now(LOCAL) - timedelta(days=days_late)
        session.commit()
    operator = staff_login(client, "ioc")
    late = client.get("/api/v1/staff/reports", params={"overdue": "true"}, headers=operator)
    assert late.status_code == 200
    assert [(r["code"], r["overdue"]) for r in late.json()] == [(vy_da, True), (thuan_hoa, True)]
    # Agency staff: only their own late report.
    lan = client.get("/api/v1/staff/reports?overdue=true", headers=staff_login(client, "lan"))
    assert [r["code"] for r in lan.json()] == [thuan_hoa]
    # Resolved: no longer late, and out of the list.
    resolved = client.post(
        f"/api/v1/staff/reports/{thuan_hoa}/transitions",
        json={"to": "resolved", "message": "Đã thay bóng đèn"},
        headers=staff_login(client, "lan"),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["overdue"] is False
    late = client.get("/api/v1/staff/reports?overdue=true", headers=operator)
    assert [r["code"] for r in late.json()] == [vy_da]


def test_the_outbox_worker_process_sweeps_for_late_reports(factory, database_url):
    from tests.service.outbox.test_worker_crash import worker

    code = submit(factory, reporter="web:" + "e" * 32)  # deadline 26/11/2026, long past
    run = worker(database_url, "--once")
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 0, errors.decode()[-2000:]
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        assert report.overdue_notified_at is not None
        assert report.overdue_notified_at > report.deadline_at


def test_the_citizen_reads_that_their_report_is_late(factory):
    from bot.reports.internal_routes import report_summary

    code = submit(factory)  # deadline 26/11/2026 17:00, long past
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        summary = report_summary(report, CATALOG)
        assert (summary["open"], summary["overdue"]) == (True, True)
        assert summary["deadline_label"] == "17:00 ngày 26/11/2026"
        change_state(session, report, State.RESOLVED, Actor.AGENCY, message="Đã thay bóng đèn")
        assert report_summary(report, CATALOG)["overdue"] is False
