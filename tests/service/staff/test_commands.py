"""`hue-s staff …` on a migrated database: unlock, reset a password, disable and enable an
account, change its role (SQLite and PostgreSQL)."""

from __future__ import annotations

import getpass

import pytest

from bot import cli
from tests.service.conftest import STAFF_PASSWORD, staff_login

NEW_PASSWORD = "mật khẩu mới của Lan 2026"


@pytest.fixture
def hue_s(world, monkeypatch, capsys):
    """Run `hue-s ARGS…` against the world's database; its exit code and what it printed."""
    monkeypatch.setenv("DATABASE_URL", world.database_url)

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()  # what the app logged before
        code = cli.main(list(args))
        return code, capsys.readouterr().out

    return run


def login(world, username: str, password: str, address: str = "192.0.2.50") -> int:
    return (
        world.client_from(address)
        .post("/api/v1/staff/login", json={"username": username, "password": password})
        .status_code
    )


def lock(world, username: str, address: str = "192.0.2.50") -> None:
    for _ in range(5):
        login(world, username, "sai mật khẩu", address)
    assert login(world, username, STAFF_PASSWORD, address) == 429


def test_unlock_lifts_the_lock_of_a_username_and_of_an_address(world, hue_s):
    lock(world, "lan")
    assert hue_s("staff", "unlock", "LAN") == (0, "Đã mở khóa đăng nhập cho lan.\n")
    assert login(world, "lan", STAFF_PASSWORD) == 200
    assert hue_s("staff", "unlock", "lan")[1].startswith("lan: không bị khóa")

    for i in range(20):
        login(world, f"ai.{i}", "sai mật khẩu", address="192.0.2.60")
    assert login(world, "minh", STAFF_PASSWORD, address="192.0.2.60") == 429
    code, out = hue_s("staff", "unlock", "ai.0", "--address", "192.0.2.60")
    assert code == 0 and "địa chỉ 192.0.2.60" in out and "Không có tài khoản nào tên ai.0" in out
    assert login(world, "minh", STAFF_PASSWORD, address="192.0.2.60") == 200


def test_a_password_reset_lifts_the_lock_and_ends_every_session(world, hue_s, monkeypatch):
    before = staff_login(world.client, "lan")
    lock(world, "lan")
    typed = iter([NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    code, out = hue_s("staff", "reset-password", "lan")
    assert code == 0 and "mọi phiên đăng nhập cũ đã kết thúc" in out
    assert world.client.get("/api/v1/staff/reports", headers=before).status_code == 401
    assert login(world, "lan", STAFF_PASSWORD) == 401
    assert login(world, "lan", NEW_PASSWORD) == 200


def test_a_reset_refuses_a_short_or_mistyped_password(world, hue_s, monkeypatch):
    for typed, message in (
        (["ngắn quá", "ngắn quá"], "Mật khẩu cần ít nhất 12 ký tự."),
        ([NEW_PASSWORD, NEW_PASSWORD + "!"], "Hai lần nhập không khớp; mật khẩu không đổi."),
    ):
        answers = iter(typed)
        monkeypatch.setattr(getpass, "getpass", lambda prompt="", a=answers: next(a))
        assert hue_s("staff", "reset-password", "lan") == (1, message + "\n")
    assert login(world, "lan", STAFF_PASSWORD) == 200


def test_disable_enable_and_set_role_end_the_sessions(world, hue_s):
    headers = staff_login(world.client, "lan")
    code, out = hue_s("staff", "disable", "lan")
    assert code == 0 and "vô hiệu hóa" in out
    assert world.client.get("/api/v1/staff/reports", headers=headers).status_code == 401
    assert login(world, "lan", STAFF_PASSWORD) == 401
    assert hue_s("staff", "enable", "lan")[0] == 0
    headers = staff_login(world.client, "lan")

    assert hue_s("staff", "set-role", "lan", "--role", "operator", "--agency", "ubnd_vy_da") == (
        1,
        "Tài khoản cán bộ đơn vị phải gắn với đúng một đơn vị xử lý.\n",
    )
    assert (
        hue_s("staff", "set-role", "lan", "--role", "agency_staff", "--agency", "khong_co")[0] == 1
    )
    code, out = hue_s("staff", "set-role", "lan", "--role", "operator")
    assert (code, out) == (0, "lan: vai trò operator; phải đăng nhập lại.\n")
    assert world.client.get("/api/v1/staff/reports", headers=headers).status_code == 401
    operator = staff_login(world.client, "lan")
    assert len(world.client.get("/api/v1/staff/reports", headers=operator).json()) == 2

    assert hue_s("staff", "disable", "khong.co.ai") == (1, "Không có tài khoản khong.co.ai.\n")


def test_prune_forgets_old_attempts_and_ended_sessions(world, hue_s):
    login(world, "lan", "sai mật khẩu")
    code, out = hue_s("staff", "prune", "--days", "0")
    assert code == 0 and "'attempts': 1" in out
