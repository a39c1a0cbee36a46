"""The whole assistant, as `make run` starts it: real Rasa, action server and service.

Needs a trained model in models/ (scripts/test.sh trains it once per run).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from bot import devserver
from bot.conversations.citizens import web_sender_id
from bot.conversations.models import Direction, Message, MessageStatus
from bot.db import make_engine, make_sessionmaker
from bot.nlu_review import collect, to_yaml
from tests.e2e.conftest import SECRET


def chat(stack, text: str, session_id: str | None = None) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{stack['port']}/api/v1/chat",
        json={"text": text, "session_id": session_id},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def texts(reply: dict) -> str:
    return "\n".join(r["text"] or "" for r in reply["replies"])


def test_greeting_is_answered_with_buttons(stack):
    reply = chat(stack, "chào bạn")
    assert "Xin chào" in texts(reply)
    assert {b["payload"] for b in reply["replies"][0]["buttons"]} >= {
        "/ask_procedure",
        "/report_problem",
    }


def press(stack, payload: str, session_id: str) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{stack['port']}/api/v1/chat",
        json={"payload": payload, "session_id": session_id},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


SOURCE_LINE = "Nguồn: Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) (dữ liệu thu thập năm 2026)"


def test_a_procedure_question_is_answered_from_the_catalogue_with_follow_ups(stack):
    first = chat(stack, "dang ky khai sinh can giay to gi")
    answer = texts(first)
    assert answer.startswith("📄 Thủ tục đăng ký khai sinh\nMã thủ tục: 1.001193")
    assert "Giấy tờ cần nộp:" in answer
    assert SOURCE_LINE in answer and "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/" in answer
    # Follow-ups keep the procedure.
    fee = texts(chat(stack, "còn lệ phí thì sao", session_id=first["session_id"]))
    assert "Mã thủ tục: 1.001193" in fee and "miễn phí" in fee
    online = texts(chat(stack, "nộp online được không", session_id=first["session_id"]))
    assert "Mã thủ tục: 1.001193" in online and "nộp trực tuyến được" in online


def test_another_procedure_replaces_the_one_in_context(stack):
    first = chat(stack, "đăng ký kết hôn cần giấy tờ gì")
    assert "Mã thủ tục: 1.000894" in texts(first)
    other = texts(chat(stack, "còn đăng ký thường trú thì nộp ở đâu", first["session_id"]))
    assert "Mã thủ tục: 1.004222" in other


def test_a_close_second_procedure_is_one_press_away(stack):
    # "Đăng ký kinh doanh" is a company or a household business: the best match is answered
    # (it leads by more than CHOOSE_MARGIN), and the other is offered after the answer.
    first = chat(stack, "dang ky kinh doanh can giay to gi")
    [choice] = [r for r in first["replies"] if r["buttons"]]
    assert "Mã thủ tục:" in choice["text"]
    assert "Nếu bạn hỏi thủ tục khác, chọn bên dưới:" in choice["text"]
    titles = [b["title"] for b in choice["buttons"]]
    assert "Đăng ký thành lập hộ kinh doanh" in titles
    payload = next(
        b["payload"] for b in choice["buttons"] if b["title"] == "Đăng ký thành lập hộ kinh doanh"
    )
    picked = texts(press(stack, payload, first["session_id"]))
    assert "Mã thủ tục: 1.001612" in picked and "Giấy tờ cần nộp" in picked


def test_a_procedure_outside_the_catalogue_is_not_invented(stack):
    # School enrolment is not in the national catalogue (it covers no Education procedures):
    # the assistant says it found nothing, or that this is outside what it does — and
    # never answers with some other procedure.
    reply = texts(chat(stack, "thủ tục nhập học lớp 1 cần giấy tờ gì"))
    assert "Mã thủ tục" not in reply
    assert "Mình chưa tìm thấy thủ tục nào khớp" in reply or "ngoài phạm vi" in reply


def test_an_application_is_looked_up_by_its_code(stack):
    first = chat(stack, "tra cứu hồ sơ")
    assert "mã hồ sơ in trên giấy tiếp nhận" in texts(first)
    reply = texts(chat(stack, "000.00.21.H57-261120-0001", session_id=first["session_id"]))
    assert "Hồ sơ 000.00.21.H57-261120-0001 — Thủ tục đăng ký khai sinh" in reply
    assert "Tình trạng: đã có kết quả, mời bạn đến nhận." in reply
    assert "(Đây là hồ sơ mẫu để dùng thử, không phải hồ sơ thật.)" in reply
    unknown = texts(chat(stack, "hồ sơ 000.00.21.H57-200101-9999 xong chưa"))
    assert "Mình không tìm thấy hồ sơ có mã 000.00.21.H57-200101-9999" in unknown


def test_out_of_scope_gets_a_friendly_answer(stack):
    assert "ngoài phạm vi" in texts(chat(stack, "cho hỏi giá vàng hôm nay bao nhiêu"))


def test_what_was_not_understood_is_read_back_from_rasas_tracker_for_review(stack):
    started = datetime.now(UTC) - timedelta(seconds=5)
    asked = "giá vàng hôm ni bao nhiêu, gọi tui số 0905 123 456 nha"
    reply = chat(stack, asked)
    chat(stack, asked)  # another citizen, the same text
    chat(stack, "lệ phí làm hộ chiếu bao nhiêu", session_id=reply["session_id"])  # understood
    items = collect(stack["settings"].tracker_store_url, since=started)
    [item] = [i for i in items if i.text.startswith("giá vàng hôm ni")]
    assert item.text == "giá vàng hôm ni bao nhiêu, gọi tui số <số điện thoại> nha"
    assert item.times == 2 and item.understood_as in {"out_of_scope", "nlu_fallback"}
    assert not any("hộ chiếu" in i.text for i in items)
    written = to_yaml(items, since=started, until=datetime.now(UTC))
    assert reply["session_id"] not in written and "0905" not in written


def test_every_message_is_in_the_log(stack):
    reply = chat(stack, "cảm ơn nhiều nha")
    factory = make_sessionmaker(make_engine(stack["settings"].database_url))
    with factory() as session:
        rows = list(
            session.scalars(
                select(Message).where(Message.sender_id == web_sender_id(reply["session_id"]))
            )
        )
    assert [(m.direction, m.status) for m in rows] == [
        (Direction.INBOUND, MessageStatus.PROCESSED),
        (Direction.OUTBOUND, MessageStatus.SENT),
    ]


def test_rasa_refuses_requests_without_the_gateway_secret(stack):
    url = f"http://127.0.0.1:{stack['rasa_port']}/webhooks/gateway/webhook"
    body = {"sender": "attacker", "message": "chào"}
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"X-Gateway-Secret": "wrong"}).status_code == 401
    ok = httpx.post(url, json=body, headers={"X-Gateway-Secret": SECRET}, timeout=60)
    assert ok.status_code == 200 and ok.json()["messages"]


def test_rasa_rest_channel_is_not_exposed(stack):
    url = f"http://127.0.0.1:{stack['rasa_port']}/webhooks/rest/webhook"
    assert httpx.post(url, json={"sender": "x", "message": "chào"}).status_code == 404


def send(stack, session_id: str | None, text: str, **extra) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{stack['port']}/api/v1/chat",
        json={"text": text, "session_id": session_id, **extra},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def reports_of(stack, session_id: str) -> list:
    from bot.reports.models import Report

    factory = make_sessionmaker(make_engine(stack["settings"].database_url))
    with factory() as session:
        return list(
            session.scalars(select(Report).where(Report.reporter_id == web_sender_id(session_id)))
        )


def test_a_report_described_in_one_message_is_confirmed_filed_and_tracked(stack):
    first = chat(stack, "đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi")
    sid = first["session_id"]
    # The place written in the first message is kept: only its commune is asked, once.
    assert "Sự việc ở đâu" not in texts(first) and "phường/xã nào" in texts(first)
    photo = texts(chat(stack, "phường Thuận Hóa", session_id=sid))
    assert "ảnh chụp hiện trường" in photo
    assert "nguy hiểm cho người" in texts(chat(stack, "ko có hình", session_id=sid))
    summary = chat(stack, "không nguy hiểm chi", session_id=sid)
    shown = texts(summary)
    assert "• Lĩnh vực: Chiếu sáng công cộng" in shown
    assert "• Địa điểm: kiệt 45 Phan Đình Phùng (Thuận Hóa)" in shown
    assert "• Mức độ: bình thường" in shown
    titles = [b["title"] for r in summary["replies"] for b in r["buttons"]]
    assert titles[0] == "Gửi phản ánh" and "Hủy phản ánh" in titles
    filed = texts(chat(stack, "ok gửi", session_id=sid))
    [report] = reports_of(stack, sid)
    assert f"Mã theo dõi: {report.code}" in filed
    assert "Đơn vị xử lý: Ủy ban nhân dân phường Thuận Hóa." in filed and "Hạn xử lý:" in filed
    assert (report.category, report.commune, report.agency_code) == (
        "street_lighting",
        "Thuận Hóa",
        "ubnd_thuan_hoa",
    )
    # A second "yes" after filing files nothing more.
    press(stack, "/affirm", sid)
    assert len(reports_of(stack, sid)) == 1
    # The reporter can follow it; anyone else is told it is not among their reports.
    status = texts(chat(stack, f"{report.code} tới đâu rồi", session_id=sid))
    assert f"Phản ánh {report.code} (Chiếu sáng công cộng)" in status
    assert "Tình trạng: đã chuyển đơn vị xử lý." in status
    stranger = texts(chat(stack, f"{report.code} tới đâu rồi"))
    assert f"Mình không tìm thấy phản ánh {report.code}" in stranger


def test_a_procedure_question_mid_report_is_answered_then_the_report_goes_on(stack):
    first = chat(stack, "rác ứ đọng bốc mùi đầu kiệt 12 Nguyễn Trãi mấy ngày nay")
    sid = first["session_id"]
    assert "phường/xã nào" in texts(first)
    aside = texts(chat(stack, "à mà đăng ký khai sinh mất bao lâu", session_id=sid))
    assert "Mã thủ tục" in aside and "phường/xã nào" in aside
    cancelled = texts(chat(stack, "thôi hủy đi", session_id=sid))
    assert "Đã hủy phản ánh này" in cancelled
    assert reports_of(stack, sid) == []


def test_a_report_placed_by_shared_location_and_marked_urgent(stack):
    first = chat(stack, "tui muốn phản ánh")
    sid = first["session_id"]
    assert "mô tả giúp mình sự việc" in texts(first)
    where = texts(chat(stack, "cây xanh ngã chắn ngang đường, nguy hiểm lắm", session_id=sid))
    assert "Sự việc ở đâu" in where
    located = send(stack, sid, "ở đây nè", location={"latitude": 16.4637, "longitude": 107.5909})
    assert "ảnh chụp hiện trường" in texts(located)
    urgency = texts(press(stack, "/deny", sid))
    assert "nguy hiểm cho người" in urgency
    summary = texts(press(stack, "/affirm", sid))
    assert "• Mức độ: khẩn cấp" in summary
    assert "• Địa điểm: Vị trí đã chia sẻ (16.46370, 107.59090)" in summary
    texts(press(stack, "/affirm", sid))
    [report] = reports_of(stack, sid)
    assert (report.urgency, report.latitude, report.longitude) == ("urgent", 16.4637, 107.5909)


def test_a_report_survives_the_action_server_dying_before_the_confirmation(stack):
    # Runs last in this module: it stops the action server, then starts it again.
    first = chat(stack, "cống thoát nước trước nhà 12 Nguyễn Trãi bị nghẹt, nước tràn lên đường")
    sid = first["session_id"]
    chat(stack, "12 Nguyễn Trãi, phường Thuận Hóa", session_id=sid)
    press(stack, "/deny", sid)  # no photo
    summary = texts(press(stack, "/deny", sid))  # nobody in danger
    assert "Thông tin đã đúng chưa" in summary
    [actions] = [c for c in stack["children"] if c.name == "action-server"]
    devserver.stop_all([actions])
    try:
        # Not an empty answer: the citizen is told the message is kept.
        lost = httpx.post(
            f"http://127.0.0.1:{stack['port']}/api/v1/chat",
            json={"payload": "/affirm", "session_id": sid},
            timeout=60,
        )
        assert lost.status_code == 503
        assert "đã được lưu lại" in lost.json()["error"]["message"]
        assert reports_of(stack, sid) == []
    finally:
        actions.start()
        assert devserver.wait_healthy([actions], timeout=120) is None
    # The confirmation is sent again once the action server is back (the outbox worker's
    # replay pass): the report is filed, once, and its code is in the citizen's history.
    deadline = time.monotonic() + 60
    while not reports_of(stack, sid) and time.monotonic() < deadline:
        time.sleep(1)
    [report] = reports_of(stack, sid)
    assert report.category == "drainage_flooding"
    factory = make_sessionmaker(make_engine(stack["settings"].database_url))

    def said() -> list[str | None]:
        with factory() as session:
            return list(
                session.scalars(
                    select(Message.text).where(
                        Message.sender_id == web_sender_id(sid),
                        Message.direction == Direction.OUTBOUND,
                    )
                ).all()
            )

    # The report is filed (by the action) a moment before the replay logs the answer that
    # carries its code: wait for the answer too.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        f"Mã theo dõi: {report.code}" in (text or "") for text in said()
    ):
        time.sleep(1)
    assert any(f"Mã theo dõi: {report.code}" in (text or "") for text in said())
    # Saying yes again files nothing more.
    press(stack, "/affirm", sid)
    assert len(reports_of(stack, sid)) == 1
