"""What the Telegram bot says by itself (everything else comes from Rasa)."""

from __future__ import annotations

from aiogram.enums import ContentType

ERROR = "Xin lỗi, mình gặp sự cố khi xử lý tin nhắn này. Bạn vui lòng thử lại sau ít phút nhé."
# Sent once when a user goes over the limit; also the text of a refused button press, which
# Telegram shows for at most 200 characters.
SLOW_DOWN = (
    "Bạn gửi nhanh quá, mình chưa kịp xử lý. Bạn vui lòng đợi khoảng một phút rồi gửi tiếp nhé."
)
EDITED = (
    "Mình không xử lý tin nhắn đã chỉnh sửa. Bạn vui lòng gửi nội dung mới thành một tin "
    "nhắn mới nhé."
)
EMPTY = "Tin nhắn trống. Bạn nhập nội dung cần hỏi nhé."
INVALID_TEXT = (
    "Tin nhắn có ký tự không hợp lệ (ký tự điều khiển hoặc mã Unicode lỗi), mình chưa xử lý "
    "được. Bạn vui lòng gõ lại nội dung rồi gửi nhé."
)
UNKNOWN_COMMAND = (
    "Mình không có lệnh này. Các lệnh mình hiểu: /start để bắt đầu, /help để xem hướng dẫn, "
    "/status để tra cứu tình trạng phản ánh. Bạn cũng có thể nhắn tin bình thường nhé."
)
BUTTON_EXPIRED = "Nút này không còn dùng được. Bạn vui lòng nhắn lại yêu cầu nhé."
DOWNLOAD_FAILED = "Mình chưa tải được ảnh bạn gửi. Bạn vui lòng gửi lại sau ít phút nhé."
CHOOSE = "Bạn chọn một mục bên dưới nhé:"
LOCATION_BUTTON = "📍 Gửi vị trí hiện tại"
LOCATION_PROMPT = "Bạn bấm nút «📍 Gửi vị trí hiện tại» bên dưới để chia sẻ vị trí nhé."
LOCATION_PLACEHOLDER = "Hoặc nhập địa chỉ sự việc"  # at most 64 characters
IMAGE_LINK = "Hình ảnh: {url}"


def too_long(length: int, limit: int) -> str:
    return (
        f"Tin nhắn dài quá ({length} ký tự). Bạn vui lòng rút gọn dưới {limit} ký tự rồi gửi "
        "lại nhé."
    )


def private_only(username: str | None) -> str:
    where = f" tại https://t.me/{username}" if username else ""
    return (
        f"Mình chỉ trò chuyện trong tin nhắn riêng. Bạn nhắn riêng cho mình{where} để hỏi thủ "
        "tục hành chính hoặc gửi phản ánh nhé."
    )


SUPPORTED = (
    "Bạn có thể gửi tin nhắn chữ, ảnh (kèm chú thích nếu muốn) hoặc vị trí, hay dùng các lệnh "
    "/start, /help, /status."
)
_KINDS: dict[str, str] = {
    ContentType.STICKER: "nhãn dán (sticker)",
    ContentType.ANIMATION: "ảnh động",
    ContentType.VOICE: "tin nhắn thoại",
    ContentType.AUDIO: "tệp âm thanh",
    ContentType.VIDEO: "video",
    ContentType.VIDEO_NOTE: "tin nhắn video",
    ContentType.DOCUMENT: "loại tệp này",
    ContentType.CONTACT: "danh bạ",
    ContentType.POLL: "cuộc bình chọn",
    ContentType.DICE: "xúc xắc",
    ContentType.GAME: "trò chơi",
    ContentType.STORY: "tin (story)",
    ContentType.PAID_MEDIA: "nội dung trả phí",
    ContentType.LIVE_PHOTO: "ảnh động (live photo)",
    ContentType.CHECKLIST: "danh sách việc cần làm",
    ContentType.UNKNOWN: "loại nội dung này",
}
# Service messages (a pinned message, an auto-delete timer, …) are not answered at all.
ANSWERED_KINDS = frozenset(_KINDS)


def unsupported(kind: str) -> str:
    """The answer to content the bot does not handle (``kind``: Message.content_type)."""
    return f"Mình chưa xử lý được {_KINDS.get(kind, 'loại nội dung này')}. {SUPPORTED}"
