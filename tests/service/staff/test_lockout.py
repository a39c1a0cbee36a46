"""Failed staff logins lock a username and an address for a while, the same way whether the
username exists or not; the counters are in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bot.app import create_app
from bot.db import make_engine, make_sessionmaker, utcnow
from bot.staff import throttle
from bot.staff.models import LoginThrottle, ThrottleScope
from tests.service.conftest import STAFF_PASSWORD

REFUSED = "Tên đăng nhập hoặc mật khẩu không đúng."


def attempt(client: TestClient, username: str, password: str) -> tuple[int, str, int | None]:
    """Status, error message and Retry-After (in minutes, rounded up) of one login."""
    response = client.post("/api/v1/staff/login", json={"username": username, "password": password})
    if response.status_code == 200:
        return 200, "", None
    retry = response.headers.get("retry-after")
    return (
        response.status_code,
        response.json()["error"]["message"],
        math.ceil(int(retry) / 60) if retry else None,
    )


def end_lock(world, scope: ThrottleScope, subject: str) -> None:
    """As if the lock's time had passed."""
    with world.factory() as session:
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == scope, LoginThrottle.subject == subject)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        session.commit()


def test_twenty_wrong_passwords_lock_the_account_even_against_the_right_one(world):
    client = world.client_from("192.0.2.1")
    answers = [attempt(client, "lan", f"sai mật khẩu lần {i}") for i in range(20)]
    assert [status for status, _, _ in answers] == [401] * 5 + [429] * 15
    assert {a for a in answers[:5]} == {(401, REFUSED, None)}
    assert {a for a in answers[5:]} == {(429, f"{REFUSED} Vui lòng thử lại sau 15 phút.", 15)}

    assert attempt(client, "lan", STAFF_PASSWORD)[0] == 429  # the right password: still locked
    assert attempt(world.client_from("192.0.2.2"), "lan", STAFF_PASSWORD)[0] == 429
    assert attempt(client, "minh", STAFF_PASSWORD)[0] == 200  # other accounts are not locked

    end_lock(world, ThrottleScope.ACCOUNT, "lan")
    # After the lock, five more wrong passwords lock it again, twice as long.
    again = [attempt(client, "lan", "vẫn sai mật khẩu") for _ in range(6)]
    assert [a[0] for a in again] == [401] * 5 + [429] and again[-1][2] == 30
    end_lock(world, ThrottleScope.ACCOUNT, "lan")
    assert attempt(client, " LAN ", STAFF_PASSWORD)[0] == 200
    # A success starts the count over: four wrong passwords do not lock it.
    assert [attempt(client, "lan", "sai")[0] for _ in range(4)] == [401] * 4
    assert attempt(client, "lan", STAFF_PASSWORD)[0] == 200


def test_an_unknown_username_is_answered_exactly_like_a_real_one(world):
    """Seven wrong passwords then the right one: the same statuses, sentences and waits."""

    def story(address: str, username: str) -> list[tuple[int, str, int | None]]:
        client = world.client_from(address)
        return [attempt(client, username, "sai mật khẩu rồi") for _ in range(7)] + [
            attempt(client, username, STAFF_PASSWORD)
        ]

    real, unknown = story("192.0.2.3", "lan"), story("192.0.2.4", "khong.co.ai")
    assert real == unknown
    assert [status for status, _, _ in real] == [401] * 5 + [429] * 3


def test_one_address_is_limited_across_usernames(world):
    """Credential stuffing: one wrong password on each of many usernames from one address."""
    stuffer = world.client_from("198.51.100.7")
    answers = [attempt(stuffer, f"nguoi.dung.{i}", "123456789012") for i in range(20)]
    assert [a[0] for a in answers] == [401] * 20
    assert attempt(stuffer, "lan", STAFF_PASSWORD) == (
        429,
        f"{REFUSED} Vui lòng thử lại sau 15 phút.",
        15,
    )
    assert attempt(world.client_from("198.51.100.8"), "lan", STAFF_PASSWORD)[0] == 200
    # IPv6: the whole /64 is one subscriber's.
    ipv6 = [world.client_from(f"2001:db8:0:1::{i:x}") for i in range(1, 21)]
    assert [attempt(c, f"ai.{n}", "123456789012")[0] for n, c in enumerate(ipv6)] == [401] * 20
    assert attempt(world.client_from("2001:db8:0:1::ff"), "lan", STAFF_PASSWORD)[0] == 429
    assert attempt(world.client_from("2001:db8:0:2::1"), "lan", STAFF_PASSWORD)[0] == 200


def test_locks_outlive_a_restart_and_hold_in_every_process(world):
    for _ in range(5):
        attempt(world.client, "ioc", "sai mật khẩu")
    # Another service process on the same database (or this one after a restart).
    with TestClient(create_app(world.settings)) as other:
        assert attempt(other, "ioc", STAFF_PASSWORD)[0] == 429


def test_locks_double_up_to_a_day_and_are_forgotten_after_a_quiet_day(database_url):
    policy = throttle.ThrottlePolicy(account_failures=2, lockout=timedelta(minutes=15))
    factory = make_sessionmaker(make_engine(database_url))
    key = (ThrottleScope.ACCOUNT, "lan")
    now = utcnow()
    lengths = []
    with factory() as session:
        for _ in range(9):
            assert throttle.record_failure(session, *key, policy, now) is False
            assert throttle.record_failure(session, *key, policy, now) is True
            lock = throttle.locked(session, [key], now)
            assert lock is not None and lock[0] is ThrottleScope.ACCOUNT
            lengths.append(lock[1])
            now += lock[1]  # the lock ends
            assert throttle.locked(session, [key], now) is None
        session.commit()
        assert lengths[:4] == [timedelta(minutes=m) for m in (15, 30, 60, 120)]
        assert lengths[-1] == timedelta(hours=24)
        # A day after the last lock ended, the next lock is the short one again.
        now += timedelta(days=1, seconds=1)
        throttle.record_failure(session, *key, policy, now)
        throttle.record_failure(session, *key, policy, now)
        assert throttle.locked(session, [key], now) == (key[0], timedelta(minutes=15))
        # Failures older than the window are forgotten: two a day apart do not lock.
        other = (ThrottleScope.ADDRESS, "192.0.2.9")
        throttle.record_failure(session, *other, policy, now)
        assert (
            throttle.record_failure(session, *other, policy, now + timedelta(hours=1, seconds=1))
            is False
        )
        session.commit()


def test_concurrent_failures_are_all_counted(database_url):
    """Several processes failing at once on one username lose no count (row lock / write lock)."""
    factory = make_sessionmaker(make_engine(database_url))
    policy = throttle.ThrottlePolicy(account_failures=1000)
    errors: list[BaseException] = []

    def fail(times: int) -> None:
        try:
            for _ in range(times):
                with factory() as session:
                    throttle.record_failure(session, ThrottleScope.ACCOUNT, "lan", policy, utcnow())
                    session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fail, args=(10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        row = session.scalars(select(LoginThrottle)).one()
    assert row.failures == 40


def test_addresses_are_counted_as_a_subscriber_would_hold_them():
    assert throttle.address_subject("192.0.2.1") == "192.0.2.1"
    assert throttle.address_subject("2001:db8::1") == "2001:db8::/64"
    assert throttle.address_subject("::ffff:192.0.2.1") == "192.0.2.1"
    assert throttle.address_subject("testclient") == "testclient"
