"""`hue-s staff …`: create accounts, reset a password, disable, change a role, lift a lock.

Every change that must end an account's sessions (password, disabled, role or agency) does so
through bot/staff/security.py; messages are for the administrator at the terminal.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.staff import sessions, throttle
from bot.staff.models import Role, StaffUser, ThrottleScope
from bot.staff.security import (
    MIN_PASSWORD_CHARS,
    AuthError,
    change_role,
    create_staff,
    normalise_username,
    set_active,
    set_password,
    staff_by_username,
)

ROLES = [role.value for role in Role]
Factory = Callable[[], sessionmaker[Session]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="action", required=True
    )
    new = staff.add_parser("create", help="create a staff account (asks for a password)")
    new.add_argument("username")
    new.add_argument("--name", required=True, help="display name")
    new.add_argument("--role", choices=ROLES, required=True)
    new.add_argument("--agency", help="agency code (agency_staff only)")
    unlock = staff.add_parser(
        "unlock", help="lift the lock after failed logins on a username (and an address)"
    )
    unlock.add_argument("username")
    unlock.add_argument("--address", help="also lift the lock on this client address")
    reset = staff.add_parser(
        "reset-password", help="set a new password (asks for it); ends the account's sessions"
    )
    reset.add_argument("username")
    for action in ("disable", "enable"):
        toggle = staff.add_parser(action, help=f"{action} an account (ends its sessions)")
        toggle.add_argument("username")
    role = staff.add_parser("set-role", help="change role or agency (ends the account's sessions)")
    role.add_argument("username")
    role.add_argument("--role", choices=ROLES, required=True)
    role.add_argument("--agency", help="agency code (agency_staff only)")
    prune = staff.add_parser("prune", help="forget old login attempts and ended sessions")
    prune.add_argument("--days", type=float, default=180.0, help="attempts older than this")


def run(args: argparse.Namespace, factory: Factory) -> int:
    if args.action == "create":
        return _create(factory, args.username, args.name, args.role, args.agency)
    if args.action == "unlock":
        return _unlock(factory, args.username, args.address)
    if args.action == "prune":
        return _prune(factory, args.days)
    with factory()() as session:
        user = staff_by_username(session, args.username)
        if user is None:
            print(f"Không có tài khoản {normalise_username(args.username)}.")
            return 1
        try:
            return _change(session, user, args)
        except AuthError as exc:
            print(exc.message)
            return 1


def _change(session: Session, user: StaffUser, args: argparse.Namespace) -> int:
    if args.action == "reset-password":
        password = getpass.getpass(f"Mật khẩu mới (ít nhất {MIN_PASSWORD_CHARS} ký tự): ")
        if getpass.getpass("Nhập lại mật khẩu mới: ") != password:
            print("Hai lần nhập không khớp; mật khẩu không đổi.")
            return 1
        set_password(session, user, password)
        print(f"Đã đặt mật khẩu mới cho {user.username}; mọi phiên đăng nhập cũ đã kết thúc.")
    elif args.action in ("disable", "enable"):
        set_active(session, user, args.action == "enable")
        state = "kích hoạt lại" if user.active else "vô hiệu hóa; mọi phiên đăng nhập đã kết thúc"
        print(f"Tài khoản {user.username} đã được {state}.")
    else:  # set-role
        if args.agency and not _agency_exists(args.agency):
            return 1
        change_role(session, user, Role(args.role), args.agency)
        where = f" ({user.agency_code})" if user.agency_code else ""
        print(f"{user.username}: vai trò {user.role.value}{where}; phải đăng nhập lại.")
    return 0


def _agency_exists(agency: str) -> bool:
    from bot.reports.catalog import default_catalog

    if agency in default_catalog().agencies:
        return True
    print(f"Đơn vị {agency} không có trong data/catalog/agencies.yml.")
    return False


def _create(factory: Factory, username: str, name: str, role: str, agency: str | None) -> int:
    if agency and not _agency_exists(agency):
        return 1
    password = getpass.getpass(f"Mật khẩu (ít nhất {MIN_PASSWORD_CHARS} ký tự): ")
    with factory()() as session:
        try:
            user = create_staff(
                session,
                username=username,
                display_name=name,
                password=password,
                role=Role(role),
                agency_code=agency,
            )
        except AuthError as exc:
            print(exc.message)
            return 1
    print(f"Đã tạo tài khoản {user.username} ({user.role.value}).")
    return 0


def _unlock(factory: Factory, username: str, address: str | None) -> int:
    """Lift a username's lock (whether or not an account has that name) and an address's."""
    name = normalise_username(username)
    with factory()() as session:
        lifted = throttle.clear(session, ThrottleScope.ACCOUNT, name)
        if address:
            lifted += throttle.clear(session, ThrottleScope.ADDRESS, address)
        exists = staff_by_username(session, name) is not None
        session.commit()
    what = name + (f" và địa chỉ {address}" if address else "")
    if not lifted:
        print(f"{what}: không bị khóa, không có lần đăng nhập sai nào đang được đếm.")
    else:
        print(f"Đã mở khóa đăng nhập cho {what}.")
    if not exists:
        print(f"(Không có tài khoản nào tên {name}.)")
    return 0


def _prune(factory: Factory, days: float) -> int:
    now = utcnow()
    with factory()() as session:
        removed = throttle.prune(session, attempts_before=now - timedelta(days=days), now=now)
        removed["sessions"] = sessions.prune(session, now)
        session.commit()
    print(f"removed: {removed}")
    return 0
