"""The agency-side API over HTTP: login, scoping, transitions and their errors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.outbox.models import OutboxMessage
from tests.service.conftest import staff_login


def test_a_wrong_password_is_a_vietnamese_401(world):
    response = world["client"].post(
        "/api/v1/staff/login", json={"username": "lan", "password": "sai"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."


@pytest.mark.parametrize("header", [None, "Bearer garbage.token.here", "Basic abc"])
def test_reports_need_a_valid_token(world, header):
    headers = {"Authorization": header} if header else {}
    response = world["client"].get("/api/v1/staff/reports", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_agency_staff_see_their_agency_only_and_no_reporter(world):
    client, (mine, theirs) = world["client"], world["codes"]
    headers = staff_login(client, "lan")
    listed = client.get("/api/v1/staff/reports", headers=headers).json()
    assert [r["code"] for r in listed] == [mine]
    assert "reporter" not in listed[0]
    assert client.get(f"/api/v1/staff/reports/{theirs}", headers=headers).status_code == 404
    operator = client.get("/api/v1/staff/reports", headers=staff_login(client, "ioc")).json()
    assert {r["code"] for r in operator} == {mine, theirs}
    assert {r["reporter"]["handle"] for r in operator} == {"Web · khách"}


def test_staff_move_a_report_and_the_history_records_it(world):
    client, (mine, _) = world["client"], world["codes"]
    headers = staff_login(client, "lan")
    url = f"/api/v1/staff/reports/{mine}/transitions"
    assert (
        client.post(url, json={"to": "in_progress"}, headers=headers).json()["state"]
        == "in_progress"
    )
    refused = client.post(url, json={"to": "resolved"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "reason_required"
    done = client.post(
        url, json={"to": "resolved", "message": "Đã thay bóng đèn."}, headers=headers
    )
    assert done.json()["state_label"] == "đã xử lý xong"
    again = client.post(url, json={"to": "in_progress"}, headers=headers)
    assert again.status_code == 409
    history = client.get(f"/api/v1/staff/reports/{mine}", headers=headers).json()["history"]
    assert [h["to"] for h in history] == ["received", "assigned", "in_progress", "resolved"]
    assert history[-1]["message"] == "Đã thay bóng đèn."


def test_a_citizen_only_move_is_forbidden_to_staff(world):
    client, (mine, _) = world["client"], world["codes"]
    headers = staff_login(client, "lan")
    url = f"/api/v1/staff/reports/{mine}/transitions"
    client.post(url, json={"to": "resolved", "message": "Xong."}, headers=headers)
    forbidden = client.post(url, json={"to": "rated"}, headers=headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "not_permitted"


def test_an_operator_transfers_a_report_to_another_agency(world):
    client, (mine, _) = world["client"], world["codes"]
    headers = staff_login(client, "ioc")
    url = f"/api/v1/staff/reports/{mine}/transitions"
    unknown = client.post(
        url, json={"to": "transferred", "message": "x", "agency": "nobody"}, headers=headers
    )
    assert unknown.status_code == 422
    moved = client.post(
        url,
        json={
            "to": "transferred",
            "message": "Đường do thành phố quản lý.",
            "agency": "so_xay_dung",
        },
        headers=headers,
    ).json()
    assert (moved["state"], moved["agency_code"]) == ("assigned", "so_xay_dung")
    # The first agency no longer sees it.
    lan = staff_login(client, "lan")
    assert client.get(f"/api/v1/staff/reports/{mine}", headers=lan).status_code == 404
    # Agencies' contacts are placeholders until an operator fills them in: nothing queued yet.
    with world["factory"]() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
