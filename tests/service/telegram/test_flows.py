"""Citizens' flows over Telegram: every request of the bot goes over HTTP to the fake server,
every message to Rasa over HTTP to the Rasa stand-in; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from bot.channels.telegram import texts
from bot.channels.telegram.render import MAX_TEXT, utf16_length
from bot.conversations.models import Direction, Message, MessageStatus
from bot.media.models import MediaFile
from bot.settings import Settings
from tests.service.conftest import FakeRasa, free_port
from tests.service.media.images import CITADEL, phone_jpeg
from tests.service.telegram import updates
from tests.service.telegram.conftest import Harness
from tests.service.telegram.fake_telegram import BOT_USER, FakeTelegram

CHAT = 5_550_001
# Longer than the 64 bytes of callback_data, as many of the assistant's payloads are.
LONG_PAYLOAD = (
    '/ask_procedure_fee{"procedure_code":"1.001193","detail":"all",'
    '"commune":"Phường Phú Hội, thành phố Huế"}'
)
LONG_TITLE = "Lệ phí đăng ký khai sinh cho trẻ em sinh ra tại cơ sở y tế trên địa bàn thành phố Huế"


def replying(*replies: dict[str, Any]) -> Any:
    def handler(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"recipient_id": body["sender"], **reply} for reply in replies]

    return handler


def test_text_goes_to_rasa_as_the_chat_and_the_reply_comes_back(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.text(CHAT, "  Xin   chào  "))

    (call,) = fake_rasa.calls
    assert call["sender"] == f"telegram:{CHAT}"
    assert call["message"] == "Xin chào"
    assert call["metadata"]["channel"] == "telegram"
    assert fake_telegram.texts(CHAT) == ["Bạn vừa nói: Xin chào"]
    assert fake_telegram.called("sendChatAction")[0]["action"] == "typing"
    with harness.factory() as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
    assert [(m.direction, m.status, m.channel) for m in rows] == [
        (Direction.INBOUND, MessageStatus.PROCESSED, "telegram"),
        (Direction.OUTBOUND, MessageStatus.SENT, "telegram"),
    ]
    assert rows[0].sender_id == f"telegram:{CHAT}"


def test_a_message_over_the_length_limit_is_refused_in_vietnamese(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.text(CHAT, "à" * 201))

    assert fake_rasa.calls == []
    assert fake_telegram.texts(CHAT) == [
        "Tin nhắn dài quá (201 ký tự). Bạn vui lòng rút gọn dưới 200 ký tự rồi gửi lại nhé."
    ]


def test_buttons_become_an_inline_keyboard_and_a_press_sends_the_exact_payload(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_rasa.handler = replying(
        {
            "text": "Bạn muốn biết gì về thủ tục này?",
            "buttons": [
                {"title": LONG_TITLE, "payload": LONG_PAYLOAD},
                {"title": "Hồ sơ cần chuẩn bị", "payload": "/ask_procedure_documents"},
            ],
        }
    )
    harness.feed(updates.text(CHAT, "khai sinh"))

    (sent,) = fake_telegram.sent(CHAT)
    assert sent["text"] == "Bạn muốn biết gì về thủ tục này?"
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1]  # one button a row
    first, second = rows[0][0], rows[1][0]
    assert len(first["text"]) <= 64 and first["text"].endswith("…")
    assert first["text"].startswith("Lệ phí đăng ký khai sinh")
    assert second["text"] == "Hồ sơ cần chuẩn bị"
    assert all(len(b[0]["callback_data"].encode()) <= 64 for b in rows)
    assert first["callback_data"] != second["callback_data"]

    fake_rasa.handler = replying({"text": "Lệ phí: miễn phí."})
    press = updates.button_press(CHAT, first["callback_data"])
    harness.feed(press)

    assert fake_rasa.calls[-1]["message"] == LONG_PAYLOAD
    assert fake_rasa.calls[-1]["sender"] == f"telegram:{CHAT}"
    assert fake_telegram.texts(CHAT)[-1] == "Lệ phí: miễn phí."
    (answer,) = fake_telegram.called("answerCallbackQuery")
    assert answer["callback_query_id"] == press["callback_query"]["id"]


def test_buttons_keep_working_after_a_restart(
    tg_settings: Settings, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_rasa.handler = replying(
        {"text": "Chọn:", "buttons": [{"title": "Phí", "payload": LONG_PAYLOAD}]}
    )
    before = Harness(tg_settings, fake_telegram)
    try:
        before.feed(updates.text(CHAT, "khai sinh"))
    finally:
        before.close()
    data = fake_telegram.sent(CHAT)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    after = Harness(tg_settings, fake_telegram)  # a new process: nothing kept in memory
    try:
        after.feed(updates.button_press(CHAT, data))
    finally:
        after.close()
    assert fake_rasa.calls[-1]["message"] == LONG_PAYLOAD


def test_an_unknown_button_is_answered_and_nothing_is_forwarded(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.button_press(CHAT, "b:0123456789abcdef"))
    harness.feed(updates.button_press(CHAT, "something-else"))

    assert fake_rasa.calls == []
    expired, other = fake_telegram.called("answerCallbackQuery")
    assert expired["text"] == texts.BUTTON_EXPIRED
    assert expired["show_alert"] == "true"
    assert "text" not in other


def test_a_question_asking_for_the_place_offers_a_location_button(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_rasa.handler = replying(
        {"text": "Sự việc ở đâu ạ?", "custom": {"request_location": True}},
    )
    harness.feed(updates.text(CHAT, "đèn đường hỏng"))

    (sent,) = fake_telegram.sent(CHAT)
    assert sent["text"] == "Sự việc ở đâu ạ?"
    keyboard = sent["reply_markup"]
    assert keyboard["keyboard"] == [[{"text": "📍 Gửi vị trí hiện tại", "request_location": True}]]
    assert keyboard["one_time_keyboard"] is True
    assert keyboard["resize_keyboard"] is True


def test_a_location_request_with_buttons_comes_as_a_second_message(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_rasa.handler = replying(
        {
            "text": "Sự việc ở đâu ạ?",
            "buttons": [{"title": "Mình không rõ", "payload": "/deny"}],
            "custom": {"request_location": True},
        },
    )
    harness.feed(updates.text(CHAT, "ổ gà"))

    question, prompt = fake_telegram.sent(CHAT)
    assert "inline_keyboard" in question["reply_markup"]
    assert prompt["text"] == texts.LOCATION_PROMPT
    assert prompt["reply_markup"]["keyboard"][0][0]["request_location"] is True


def test_a_shared_location_goes_to_rasa_as_metadata(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_rasa.handler = replying({"text": "Đã nhận vị trí."})
    harness.feed(updates.location(CHAT, 16.4637, 107.5909))

    (call,) = fake_rasa.calls
    assert call["message"] == "/inform_place"
    assert call["metadata"]["location"] == {"latitude": 16.4637, "longitude": 107.5909}
    (sent,) = fake_telegram.sent(CHAT)
    assert sent["text"] == "Đã nhận vị trí."
    assert sent["reply_markup"] == {"remove_keyboard": True}  # the location button goes away


def test_a_photo_with_a_caption_is_stored_clean_and_attached(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram, tg_settings: Settings
) -> None:
    original = phone_jpeg()
    file_id = fake_telegram.add_file(original)
    harness.feed(updates.photo(CHAT, file_id, file_size=len(original), caption="Đèn đường hỏng"))

    assert fake_telegram.called("getFile")[0]["file_id"] == file_id  # the largest size
    (call,) = fake_rasa.calls
    assert call["message"] == "Đèn đường hỏng"
    (attachment,) = call["metadata"]["attachments"]
    with harness.factory() as session:
        media = session.scalars(select(MediaFile)).one()
    assert media.owner_id == f"telegram:{CHAT}"
    assert attachment == {
        "media_id": media.id,
        "content_type": "image/jpeg",
        "gps": {"latitude": pytest.approx(CITADEL[0]), "longitude": pytest.approx(CITADEL[1])},
    }
    stored = (tg_settings.media_dir / media.storage_path).read_bytes()
    assert stored != original  # re-encoded
    with Image.open(BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 40)  # turned upright from the EXIF orientation
        assert not image.getexif()  # metadata stripped


def test_a_photo_without_words_starts_a_report(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    data = phone_jpeg(orientation=1)
    harness.feed(updates.photo(CHAT, fake_telegram.add_file(data), file_size=len(data)))

    (call,) = fake_rasa.calls
    assert call["message"] == "/report_problem"
    assert len(call["metadata"]["attachments"]) == 1


def test_a_photo_sent_as_a_file_is_taken_too(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    data = phone_jpeg()
    document = {
        "file_id": fake_telegram.add_file(data),
        "file_unique_id": "doc",
        "file_name": "IMG_0001.jpg",
        "mime_type": "image/jpeg",
        "file_size": len(data),
    }
    harness.feed(updates.message(CHAT, document=document, caption="Cây đổ"))

    (call,) = fake_rasa.calls
    assert call["message"] == "Cây đổ"
    assert call["metadata"]["attachments"][0]["gps"] is not None


def test_an_oversized_photo_is_refused_before_downloading(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    file_id = fake_telegram.add_file(b"x" * 10)
    harness.feed(updates.photo(CHAT, file_id, file_size=100 * 1024, caption="Rác"))

    assert fake_rasa.calls == []
    assert fake_telegram.called("getFile") == []
    assert fake_telegram.downloads == []
    assert fake_telegram.texts(CHAT) == ["Ảnh lớn quá (100 KB). Bạn gửi ảnh dưới 64 KB nhé."]


def test_a_photo_larger_than_it_said_or_not_an_image_is_refused(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    big = fake_telegram.add_file(b"\xff" * (70 * 1024), file_size=None)
    harness.feed(updates.photo(CHAT, big, file_size=None))
    fake = fake_telegram.add_file(b"%PDF-1.4 not an image")
    harness.feed(updates.photo(CHAT, fake, file_size=21))

    assert fake_rasa.calls == []
    too_big, not_image = fake_telegram.texts(CHAT)
    assert too_big.startswith("Ảnh lớn quá")
    assert not_image == "Tệp này không phải ảnh JPEG, PNG hoặc WebP nên mình không nhận được."
    with harness.factory() as session:
        assert session.scalars(select(MediaFile)).all() == []


def test_a_photo_that_cannot_be_downloaded_is_answered(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.photo(CHAT, "gone-from-telegram", file_size=1000))

    assert fake_rasa.calls == []
    assert fake_telegram.texts(CHAT) == [texts.DOWNLOAD_FAILED]


@pytest.mark.parametrize(
    ("typed", "forwarded"),
    [
        ("/start report", "/report_problem"),
        ("/start status", "/check_report_status"),
        ("/start help", "/help"),
        ("/start", "/greet"),
        ("/start zalo-campaign", "/greet"),
        ("/help", "/help"),
        ("/status", "/check_report_status"),
        ("/status pa-2026-000123", '/check_report_status{"report_code":"PA-2026-000123"}'),
        (f"/help@{BOT_USER['username']}", "/help"),
    ],
)
def test_commands_and_deep_links(
    typed: str, forwarded: str, harness: Harness, fake_rasa: FakeRasa
) -> None:
    harness.feed(updates.text(CHAT, typed))

    (call,) = fake_rasa.calls
    assert call["message"] == forwarded
    assert call["sender"] == f"telegram:{CHAT}"


@pytest.mark.parametrize("typed", ["/foo", '/report_problem{"report_category":"x"}'])
def test_other_commands_and_typed_payloads_are_not_forwarded(
    typed: str, harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.text(CHAT, typed))

    assert fake_rasa.calls == []
    assert fake_telegram.texts(CHAT) == [texts.UNKNOWN_COMMAND]


def test_a_long_reply_is_split_within_telegram_limits(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    paragraphs = [
        f"Bước {i}: nộp hồ sơ tại Trung tâm Phục vụ hành chính công tỉnh, " + "giấy tờ " * 40
        for i in range(1, 31)
    ]
    long_text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(long_text) > 2 * MAX_TEXT
    fake_rasa.handler = replying(
        {"text": long_text, "buttons": [{"title": "Lệ phí", "payload": "/ask_procedure_fee"}]}
    )
    harness.feed(updates.text(CHAT, "thủ tục"))

    sent = fake_telegram.sent(CHAT)
    assert len(sent) >= 3
    assert all(utf16_length(m["text"]) <= MAX_TEXT for m in sent)
    assert "\n\n".join(m["text"] for m in sent) == long_text  # cut between paragraphs
    assert "inline_keyboard" in sent[-1]["reply_markup"]  # buttons under the last piece
    assert all("inline_keyboard" not in m.get("reply_markup", {}) for m in sent[:-1])


def test_images_in_replies_are_sent_as_photos(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_rasa.handler = replying(
        {"text": "Sơ đồ nơi nộp hồ sơ:", "image": "/static/so-do.png"},
        {"image": "https://example.org/unreachable.png"},
    )
    fake_telegram.refused_photo_urls.add("https://example.org/unreachable.png")
    harness.feed(updates.text(CHAT, "nộp ở đâu"))

    photo, caption, fallback, link = fake_telegram.sent(CHAT)
    assert photo["method"] == "sendPhoto"
    assert photo["photo"] == "https://hue-s.example/static/so-do.png"
    assert caption["text"] == "Sơ đồ nơi nộp hồ sơ:"
    assert fallback["photo"] == "https://example.org/unreachable.png"  # refused by Telegram
    assert link["text"] == "Hình ảnh: https://example.org/unreachable.png"


def test_an_edited_message_is_answered_but_not_forwarded(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.text(CHAT, "đèn đường hỏng ở Lê Lợi", field="edited_message"))
    # A live location moves by editing its message: not answered at all.
    harness.feed(updates.location(CHAT, 16.46, 107.59, field="edited_message"))

    assert fake_rasa.calls == []
    assert fake_telegram.texts(CHAT) == [texts.EDITED]


STICKER = {
    "file_id": "s1",
    "file_unique_id": "s1u",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"sticker": STICKER}, "nhãn dán (sticker)"),
        ({"voice": {"file_id": "v1", "file_unique_id": "v1u", "duration": 3}}, "tin nhắn thoại"),
        (
            {
                "video": {
                    "file_id": "v2",
                    "file_unique_id": "v2u",
                    "width": 640,
                    "height": 480,
                    "duration": 9,
                }
            },
            "video",
        ),
        (
            {
                "document": {
                    "file_id": "d1",
                    "file_unique_id": "d1u",
                    "file_name": "don-de-nghi.pdf",
                    "mime_type": "application/pdf",
                }
            },
            "loại tệp này",
        ),
        ({"contact": {"phone_number": "+84234382000", "first_name": "Lan"}}, "danh bạ"),
    ],
)
def test_unsupported_content_is_answered_politely(
    content: dict[str, Any],
    named: str,
    harness: Harness,
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
) -> None:
    harness.feed(updates.message(CHAT, **content))

    assert fake_rasa.calls == []
    assert fake_telegram.texts(CHAT) == [f"Mình chưa xử lý được {named}. {texts.SUPPORTED}"]


def test_service_messages_are_not_answered(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    harness.feed(
        updates.message(CHAT, message_auto_delete_timer_changed={"message_auto_delete_time": 86400})
    )

    assert fake_rasa.calls == []
    assert fake_telegram.sent() == []


def test_group_chats_get_a_pointer_to_a_private_chat_and_nothing_else(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    group = -1_001_234_567
    harness.feed(updates.text(group, "đèn đường hỏng", kind="supergroup", user_id=CHAT))
    harness.feed(updates.text(group, "/start", kind="supergroup", user_id=CHAT))
    harness.feed(updates.text(group, "/help@another_bot", kind="group", user_id=CHAT))

    assert fake_rasa.calls == []
    assert fake_telegram.texts(group) == [texts.private_only(str(BOT_USER["username"]))]
    assert "https://t.me/hue_s_test_bot" in fake_telegram.texts(group)[0]


def test_when_the_assistant_is_down_the_citizen_is_told_and_the_message_kept(
    tg_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    settings = tg_settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})
    bot = Harness(settings, fake_telegram)
    try:
        bot.feed(updates.text(CHAT, "cấp lại căn cước"))
        with bot.factory() as session:
            (stored,) = session.scalars(select(Message)).all()
    finally:
        bot.close()

    assert fake_telegram.texts(CHAT) == [
        "Trợ lý đang bận, tin nhắn của bạn đã được lưu lại và sẽ được trả lời khi trợ lý hoạt "
        "động trở lại (thường sau ít phút)."
    ]
    assert stored.text == "cấp lại căn cước"
    assert stored.status is MessageStatus.FAILED
    assert stored.sender_id == f"telegram:{CHAT}"


def test_a_failing_handler_apologises(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.failing_sends = 1  # the reply cannot be sent
    harness.feed(updates.text(CHAT, "xin chào"), expect_error=True)

    assert len(fake_rasa.calls) == 1
    assert fake_telegram.texts(CHAT) == ["Bạn vừa nói: xin chào", texts.ERROR]


def test_metadata_is_json_as_rasa_gets_it(harness: Harness, fake_rasa: FakeRasa) -> None:
    harness.feed(updates.location(CHAT, 16.5, 107.6))

    metadata = fake_rasa.calls[0]["metadata"]
    assert json.loads(json.dumps(metadata)) == metadata
    assert set(metadata) == {"channel", "message_id", "location"}
