"""Staff sessions over HTTP: short tokens that only name a session, refresh, logout, account
changes (disabled, new password, new role or agency) ending the account's sessions, and role
and agency read from the database on every request (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select, update

from bot.db import utcnow
from bot.staff import sessions
from bot.staff.models import Role, StaffSession, StaffUser
from bot.staff.security import AuthError, change_role, set_active, set_password, staff_by_username
from tests.service.conftest import STAFF_PASSWORD, STAFF_TOKEN_SECRET, staff_login

NEW_PASSWORD = "một mật khẩu mới dài hơn 2026"


def listed(world, headers) -> tuple[int, object]:
    """The status of GET /reports and the codes listed (or the error code)."""
    response = world.client.get("/api/v1/staff/reports", headers=headers)
    if response.status_code == 200:
        return 200, sorted(r["code"] for r in response.json())
    return response.status_code, response.json()["error"]["code"]


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_login_answers_as_before_with_a_short_token_that_only_names_a_session(world):
    response = world.client.post(
        "/api/v1/staff/login", json={"username": "lan", "password": STAFF_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "agency_staff" and body["agency_code"] == "ubnd_thuan_hoa"
    assert body["expires_in_seconds"] == 30 * 60
    assert body["session_expires_in_seconds"] == 12 * 3600
    claims = claims_of(body["token"])
    assert set(claims) == {"sub", "jti", "iss", "aud", "iat", "exp"}  # no role, no agency
    assert claims["exp"] - claims["iat"] == 30 * 60
    with world.factory() as session:
        stored = session.scalars(select(StaffSession)).one()
    assert stored.token_hash == hashlib.sha256(claims["jti"].encode()).hexdigest()
    assert claims["jti"] not in stored.token_hash


def test_logout_ends_the_session_at_once_and_everywhere_ends_them_all(world):
    first, second = staff_login(world.client, "lan"), staff_login(world.client, "lan")
    assert listed(world, first)[0] == 200
    assert world.client.post("/api/v1/staff/logout", headers=first).status_code == 204
    assert listed(world, first) == (401, "session_ended")
    assert world.client.post("/api/v1/staff/logout", headers=first).status_code == 401
    assert world.client.post("/api/v1/staff/token/refresh", headers=first).status_code == 401
    assert listed(world, second)[0] == 200  # another device's session goes on

    third = staff_login(world.client, "lan")
    everywhere = world.client.post("/api/v1/staff/logout?everywhere=true", headers=second)
    assert everywhere.status_code == 204
    assert listed(world, second) == (401, "session_ended")
    assert listed(world, third) == (401, "session_ended")
    assert listed(world, staff_login(world.client, "lan"))[0] == 200  # a new login works
    assert world.client.post("/api/v1/staff/logout").status_code == 401


def test_a_live_token_is_renewed_without_logging_in_again(world):
    headers = staff_login(world.client, "lan")
    response = world.client.post("/api/v1/staff/token/refresh", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "agency_staff" and body["expires_in_seconds"] == 30 * 60
    assert claims_of(body["token"])["jti"] == claims_of(token_of(headers))["jti"]
    assert listed(world, bearer(body["token"])) == (200, [world.codes[0]])


def test_idle_for_a_token_lifetime_or_twelve_hours_in_means_logging_in_again(world):
    """Renewal slides the token on 30 minutes at a time, never past the session's 12 hours."""
    token = token_of(staff_login(world.client, "lan"))
    policy = sessions.SessionPolicy()
    start = utcnow()
    with world.factory() as session:
        renewed = sessions.refresh(
            session, token, STAFF_TOKEN_SECRET, policy, now=start + timedelta(minutes=20)
        )
        later = start + timedelta(minutes=31)
        with pytest.raises(AuthError) as expired:
            sessions.identify(session, token, STAFF_TOKEN_SECRET, now=later)
        assert expired.value.code == "token_expired"
        assert sessions.identify(session, renewed.token, STAFF_TOKEN_SECRET, now=later).role is (
            Role.AGENCY_STAFF
        )
        # Idle: the renewed token ran out at +50 minutes; it cannot be renewed any more.
        with pytest.raises(AuthError):
            sessions.refresh(
                session, renewed.token, STAFF_TOKEN_SECRET, policy, now=start + timedelta(hours=1)
            )
        # Working all day: renewed every 25 minutes, the session still ends after 12 hours.
        token, moment = renewed.token, start + timedelta(minutes=20)
        while True:
            moment += timedelta(minutes=25)
            try:
                issued = sessions.refresh(session, token, STAFF_TOKEN_SECRET, policy, now=moment)
            except AuthError as exc:
                assert exc.code == "token_expired"
                break
            assert issued.expires_at <= issued.session_ends_at
            token = issued.token
        assert timedelta(hours=12) <= moment - start <= timedelta(hours=12, minutes=25)


@pytest.mark.parametrize("change", ["disabled", "new password", "new agency", "new role"])
def test_an_account_change_ends_every_session_of_the_account(world, change):
    lan, ioc = staff_login(world.client, "lan"), staff_login(world.client, "ioc")
    with world.factory() as session:
        user = staff_by_username(session, "lan")
        assert user is not None
        if change == "disabled":
            set_active(session, user, False)
        elif change == "new password":
            set_password(session, user, NEW_PASSWORD)
        elif change == "new agency":
            change_role(session, user, Role.AGENCY_STAFF, "ubnd_vy_da")
        else:
            change_role(session, user, Role.OPERATOR, None)
    assert listed(world, lan) == (401, "session_ended")
    assert world.client.post("/api/v1/staff/token/refresh", headers=lan).status_code == 401
    assert listed(world, ioc)[0] == 200  # other accounts are untouched
    password = NEW_PASSWORD if change == "new password" else STAFF_PASSWORD
    again = world.client.post("/api/v1/staff/login", json={"username": "lan", "password": password})
    if change == "disabled":
        assert again.status_code == 401
        with world.factory() as session:
            user = staff_by_username(session, "lan")
            assert user is not None
            set_active(session, user, True)
        assert listed(world, lan) == (401, "session_ended")  # enabling does not revive it
        return
    assert again.status_code == 200
    expected = {
        "new password": [world.codes[0]],
        "new agency": [world.codes[1]],
        "new role": sorted(world.codes),
    }[change]
    assert listed(world, bearer(again.json()["token"])) == (200, expected)


def test_role_and_agency_are_read_from_the_database_on_every_request(world):
    """Even a change made straight in the database (no session ended) is seen at once."""
    headers = staff_login(world.client, "lan")
    assert listed(world, headers) == (200, [world.codes[0]])
    with world.factory() as session:
        session.execute(
            update(StaffUser).where(StaffUser.username == "lan").values(agency_code="ubnd_vy_da")
        )
        session.commit()
    assert listed(world, headers) == (200, [world.codes[1]])
    with world.factory() as session:
        session.execute(
            update(StaffUser)
            .where(StaffUser.username == "lan")
            .values(role=Role.OPERATOR, agency_code=None)
        )
        session.commit()
    assert listed(world, headers) == (200, sorted(world.codes))
    with world.factory() as session:
        session.execute(update(StaffUser).where(StaffUser.username == "lan").values(active=False))
        session.commit()
    assert listed(world, headers) == (401, "session_ended")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_and_forged_tokens_are_refused_and_claims_grant_nothing(world):
    token = token_of(staff_login(world.client, "lan"))
    header, _, signature = token.split(".")
    claims = claims_of(token)
    with world.factory() as session:
        ioc = staff_by_username(session, "ioc")
        assert ioc is not None

    # The payload edited (role and agency added, the subject changed), the signature kept.
    for edited in ({**claims, "role": "operator"}, {**claims, "sub": str(ioc.id)}):
        tampered = f"{header}.{_b64(edited)}.{signature}"
        assert listed(world, bearer(tampered)) == (401, "invalid_token")

    # Signed with the real secret (a leaked secret): a role claim is ignored...
    with_role = jwt.encode(
        {**claims, "role": "operator", "agency": None}, STAFF_TOKEN_SECRET, algorithm="HS256"
    )
    assert listed(world, bearer(with_role)) == (200, [world.codes[0]])
    # ...and a session is bound to its account and must exist.
    as_ioc = jwt.encode({**claims, "sub": str(ioc.id)}, STAFF_TOKEN_SECRET, algorithm="HS256")
    assert listed(world, bearer(as_ioc)) == (401, "invalid_token")
    unknown = jwt.encode({**claims, "jti": "x" * 43}, STAFF_TOKEN_SECRET, algorithm="HS256")
    assert listed(world, bearer(unknown)) == (401, "invalid_token")
    # Tokens of the old kind (role and agency inside, no session) are refused.
    old_kind = {k: v for k, v in claims.items() if k != "jti"} | {"role": "operator"}
    assert (
        listed(world, bearer(jwt.encode(old_kind, STAFF_TOKEN_SECRET, algorithm="HS256")))[0] == 401
    )
    other_secret = jwt.encode(claims, "another-secret-0123456789-abcdefghijklmnop", "HS256")
    assert listed(world, bearer(other_secret)) == (401, "invalid_token")
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert listed(world, bearer(unsigned)) == (401, "invalid_token")

    # An absurd expiry is a number like any other: the session's own expiry still holds.
    forever = jwt.encode({**claims, "exp": 10**20}, STAFF_TOKEN_SECRET, algorithm="HS256")
    assert listed(world, bearer(forever))[0] == 200
    with world.factory() as session:
        with pytest.raises(AuthError) as ended:
            sessions.identify(
                session, forever, STAFF_TOKEN_SECRET, now=utcnow() + timedelta(minutes=31)
            )
    assert ended.value.code == "session_ended"
    for absurd in ({**claims, "exp": "never"}, {**claims, "sub": "-1"}, {**claims, "jti": 5}):
        token = jwt.encode(absurd, STAFF_TOKEN_SECRET, algorithm="HS256")
        assert listed(world, bearer(token)) == (401, "invalid_token")


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "lan\\u0000", "password": "m\\u1eadt kh\\u1ea9u \\u0111\\u1ee7 d\\u00e0i"}',
        b'{"username": "lan", "password": "\\ud800 abc def ghi jkl"}',
    ],
)
def test_a_login_with_text_no_one_can_type_is_refused_and_changes_nothing(world, body):
    response = world.client.post(
        "/api/v1/staff/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    # Refused at the edge by the input guard (bot/inputguard.py), before the route runs.
    assert response.json()["error"]["code"] == "invalid_text"
    with world.factory() as session:
        assert session.scalars(select(StaffSession)).first() is None
