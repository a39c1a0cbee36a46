"""Telegram updates as the Bot API sends them (JSON), for the tests to feed the bot."""

from __future__ import annotations

from itertools import count
from typing import Any

DATE = 1_764_300_000
_ids = count(700_000_001)


def next_update_id() -> int:
    return next(_ids)


def user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Lan", "language_code": "vi"}


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    if kind == "private":
        return {"id": chat_id, "type": "private", "first_name": "Lan"}
    return {"id": chat_id, "type": kind, "title": "Tổ dân phố 5"}


def message(
    chat_id: int,
    *,
    update_id: int | None = None,
    kind: str = "private",
    user_id: int | None = None,
    field: str = "message",
    **content: Any,
) -> dict[str, Any]:
    """An update carrying a message (``field``: "message" or "edited_message")."""
    update_id = update_id if update_id is not None else next_update_id()
    body: dict[str, Any] = {
        "message_id": update_id % 100_000,
        "date": DATE,
        "chat": chat(chat_id, kind),
        "from": user(user_id if user_id is not None else abs(chat_id)),
        **content,
    }
    if field == "edited_message":
        body["edit_date"] = DATE + 60
    return {"update_id": update_id, field: body}


def text(chat_id: int, value: str, **kwargs: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if value.startswith("/"):
        command = value.split()[0]
        extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return message(chat_id, text=value, **extra, **kwargs)


def photo(
    chat_id: int, file_id: str, *, file_size: int | None, caption: str | None = None
) -> dict[str, Any]:
    """A compressed photo: a thumbnail and the full size (the one to download)."""
    sizes = [
        {"file_id": "thumbnail", "file_unique_id": "thumb", "width": 90, "height": 45},
        {"file_id": file_id, "file_unique_id": "full", "width": 1280, "height": 640},
    ]
    if file_size is not None:
        sizes[1]["file_size"] = file_size
    content: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return message(chat_id, **content)


def location(chat_id: int, latitude: float, longitude: float, **kwargs: Any) -> dict[str, Any]:
    return message(chat_id, location={"latitude": latitude, "longitude": longitude}, **kwargs)


def button_press(chat_id: int, data: str, *, update_id: int | None = None) -> dict[str, Any]:
    update_id = update_id if update_id is not None else next_update_id()
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq-{update_id}",
            "from": user(chat_id),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": 42,
                "date": DATE,
                "chat": chat(chat_id),
                "from": {"id": 123456789, "is_bot": True, "first_name": "Hue-S"},
                "text": "Bạn chọn một mục bên dưới nhé:",
            },
        },
    }
