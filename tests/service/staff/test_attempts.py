"""Every staff login attempt is recorded — table and log line — and never the password
(SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select
from structlog.testing import capture_logs

from bot.staff.models import LoginAttempt, LoginOutcome
from bot.staff.security import staff_by_username
from tests.service.conftest import STAFF_PASSWORD, staff_login

WRONG = "mật khẩu sai bí mật 7731"


def test_every_attempt_is_recorded_without_the_password(world):
    client = world.client_from("203.0.113.5")
    with capture_logs() as logs:
        for username, password in [
            ("  LAN ", WRONG),
            ("khong.co.ai", WRONG),
            ("lan", STAFF_PASSWORD),
            *[("minh", WRONG)] * 5,
            ("minh", STAFF_PASSWORD),
        ]:
            client.post("/api/v1/staff/login", json={"username": username, "password": password})
    with world.factory() as session:
        lan, minh = staff_by_username(session, "lan"), staff_by_username(session, "minh")
        assert lan is not None and minh is not None
        rows = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
    assert [(r.username, r.user_id, r.client_address, r.success, r.reason) for r in rows] == [
        ("  LAN ", lan.id, "203.0.113.5", False, LoginOutcome.WRONG_PASSWORD),
        ("khong.co.ai", None, "203.0.113.5", False, LoginOutcome.UNKNOWN_USER),
        ("lan", lan.id, "203.0.113.5", True, LoginOutcome.SUCCESS),
        *[("minh", minh.id, "203.0.113.5", False, LoginOutcome.WRONG_PASSWORD)] * 5,
        ("minh", minh.id, "203.0.113.5", False, LoginOutcome.LOCKED_ACCOUNT),
    ]
    assert all(r.created_at is not None for r in rows)

    lines = [entry for entry in logs if entry["event"] == "staff_login"]
    assert [(e["username"], e["success"], e["reason"]) for e in lines] == [
        (r.username, r.success, r.reason.value) for r in rows
    ]
    assert {e["client"] for e in lines} == {"203.0.113.5"}
    locked = [entry for entry in logs if entry["event"] == "staff_login_locked"]
    assert [(e["scope"], e["subject"]) for e in locked] == [("account", "minh")]
    for secret in (WRONG, STAFF_PASSWORD):
        assert secret not in repr(logs)
        assert all(secret not in repr(vars(r)) for r in rows)


def test_a_very_long_username_is_recorded_truncated(world):
    typed = "x" * 80
    world.client.post("/api/v1/staff/login", json={"username": typed, "password": WRONG})
    too_long = world.client.post(
        "/api/v1/staff/login", json={"username": "y" * 81, "password": WRONG}
    )
    assert too_long.status_code == 422  # longer than any username: refused before anything
    with world.factory() as session:
        assert session.scalars(select(LoginAttempt.username)).all() == [typed]


def test_logouts_and_refused_tokens_are_logged_without_the_token(world):
    headers = staff_login(world.client, "lan")
    token = headers["Authorization"].split(" ", 1)[1]
    with capture_logs() as logs:
        world.client.post("/api/v1/staff/logout", headers=headers)
        world.client.get("/api/v1/staff/reports", headers=headers)
    events = [(e["event"], e.get("code")) for e in logs if e["event"].startswith("staff_")]
    assert events == [("staff_logout", None), ("staff_token_refused", "session_ended")]
    assert token not in repr(logs) and token.split(".")[1] not in repr(logs)
