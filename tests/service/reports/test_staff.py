"""Staff accounts: argon2 passwords, agency scoping, and the reporter hidden from agencies
(SQLite and PostgreSQL); tokens and sessions: tests/service/staff."""

from __future__ import annotations

import pytest

from bot.db import make_engine, make_sessionmaker
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.service import ReportDraft, submit_report
from bot.staff.access import can_see, report_view, visible_reports
from bot.staff.models import Role
from bot.staff.security import AuthError, StaffIdentity, authenticate, create_staff

PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture
def session(database_url):
    with make_sessionmaker(make_engine(database_url))() as s:
        yield s


def staff(session, username: str, role: Role, agency: str | None = None):
    return create_staff(
        session,
        username=username,
        display_name=username.title(),
        password=PASSWORD,
        role=role,
        agency_code=agency,
    )


def test_passwords_are_stored_as_argon2id_and_checked(session):
    user = staff(session, "lan.ubnd", Role.AGENCY_STAFF, "ubnd_thuan_hoa")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert authenticate(session, "LAN.UBND ", PASSWORD).id == user.id
    assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("username", "password"), [("lan.ubnd", "sai mật khẩu rồi"), ("nobody", PASSWORD)]
)
def test_a_wrong_password_or_unknown_user_gets_the_same_answer(session, username, password):
    staff(session, "lan.ubnd", Role.AGENCY_STAFF, "ubnd_thuan_hoa")
    with pytest.raises(AuthError) as refused:
        authenticate(session, username, password)
    assert refused.value.message == "Tên đăng nhập hoặc mật khẩu không đúng."


def test_a_deactivated_account_cannot_log_in(session):
    user = staff(session, "old.staff", Role.OPERATOR)
    user.active = False
    session.commit()
    with pytest.raises(AuthError):
        authenticate(session, "old.staff", PASSWORD)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"password": "ngắn"}, "weak_password"),
        ({"username": "Tên có dấu"}, "invalid_username"),
        ({"role": Role.AGENCY_STAFF, "agency_code": None}, "agency_required"),
        ({"role": Role.OPERATOR, "agency_code": "ubnd_thuan_hoa"}, "agency_required"),
    ],
)
def test_bad_accounts_are_refused(session, fields, code):
    values = {"username": "an", "display_name": "An", "password": PASSWORD, "role": Role.ADMIN,
              "agency_code": None, **fields}  # fmt: skip
    values["username"] = values["username"] if values["username"] != "an" else "an.admin"
    with pytest.raises(AuthError) as refused:
        create_staff(session, **values)
    assert refused.value.code == code


def test_agency_staff_see_only_their_agency_and_never_the_reporter(session):
    catalog, calendar = default_catalog(), WorkingCalendar()
    mine = submit_report(
        session,
        ReportDraft(description="Đèn đường tắt cả tuần", reporter_id="web:citizen-1",
                    channel="web", commune="Thuận Hóa"),
        catalog, calendar,
    )  # fmt: skip
    other = submit_report(
        session,
        ReportDraft(description="Đèn đường tắt cả tuần", reporter_id="web:citizen-2",
                    channel="web", commune="Vỹ Dạ"),
        catalog, calendar,
    )  # fmt: skip
    agency = StaffIdentity.of(staff(session, "lan", Role.AGENCY_STAFF, "ubnd_thuan_hoa"))
    operator = StaffIdentity.of(staff(session, "ioc.1", Role.OPERATOR))

    assert [r.code for r in session.scalars(visible_reports(agency))] == [mine.code]
    assert {r.code for r in session.scalars(visible_reports(operator))} == {mine.code, other.code}
    assert can_see(agency, mine) and not can_see(agency, other)

    seen_by_agency = report_view(mine, agency)
    assert "reporter" not in seen_by_agency
    assert "citizen-1" not in str(seen_by_agency)
    assert report_view(mine, operator)["reporter"] == {"handle": "Web · khách", "channel": "web"}
