"""POST /telegram/webhook in the service's app: the secret token, then the same handling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from bot.app import create_app
from bot.channels.telegram.models import TelegramUpdate
from bot.channels.telegram.runtime import WEBHOOK_PATH, open_telegram
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.channels.telegram.webhook import router as telegram_router
from bot.db import make_engine, make_sessionmaker
from bot.settings import Settings
from tests.service.conftest import FakeRasa
from tests.service.media.images import phone_jpeg
from tests.service.telegram import updates
from tests.service.telegram.conftest import WEBHOOK_SECRET
from tests.service.telegram.fake_telegram import FakeTelegram

CHAT = 5_550_003


def service_app(settings: Settings) -> FastAPI:
    """The service's app with the Telegram channel wired as docs/integration/telegram.md says.

    Once bot/app.py has the two lines, its own wiring is used as it is.
    """
    app = create_app(settings)
    if any(getattr(route, "path", None) == WEBHOOK_PATH for route in app.routes):
        return app
    app.include_router(telegram_router)
    service_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_lifespan(app):
            async with open_telegram(
                settings, app.state.session_factory, app.state.rasa
            ) as app.state.telegram:
                yield

    app.router.lifespan_context = lifespan
    return app


@pytest.fixture
def client(tg_settings: Settings) -> Iterator[TestClient]:
    with TestClient(service_app(tg_settings)) as test_client:
        yield test_client


def post(client: TestClient, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> Any:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post(WEBHOOK_PATH, json=update, headers=headers)


def handled_updates(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(TelegramUpdate)) or 0)
    finally:
        engine.dispose()


def test_an_update_with_the_secret_is_handled_once(
    client: TestClient,
    tg_settings: Settings,
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
) -> None:
    update = updates.text(CHAT, "đường ngập nước")
    first = post(client, update)
    again = post(client, update)  # Telegram re-sends what it thinks was not received

    assert first.status_code == again.status_code == 200
    assert first.json() == {"ok": True}
    assert [c["message"] for c in fake_rasa.calls] == ["đường ngập nước"]
    assert fake_telegram.texts(CHAT) == ["Bạn vừa nói: đường ngập nước"]
    assert handled_updates(tg_settings) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", WEBHOOK_SECRET + "x"])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_handled(
    secret: str | None,
    client: TestClient,
    tg_settings: Settings,
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
) -> None:
    response = post(client, updates.text(CHAT, "xin chào"), secret=secret)

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "invalid_secret",
            "message": "Thiếu mã bí mật hoặc mã bí mật không đúng.",
        }
    }
    assert fake_rasa.calls == []
    assert fake_telegram.sent() == []
    assert handled_updates(tg_settings) == 0


def test_a_body_that_is_not_an_update_is_refused(client: TestClient, fake_rasa: FakeRasa) -> None:
    response = client.post(
        WEBHOOK_PATH, content=b"not json", headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert post(client, {"message": {"text": "no update id"}}).status_code == 422
    assert fake_rasa.calls == []


def test_without_a_webhook_secret_the_route_does_not_exist(
    tg_settings: Settings, fake_rasa: FakeRasa
) -> None:
    settings = tg_settings.model_copy(update={"telegram_webhook_secret": None})
    with TestClient(service_app(settings)) as client:
        response = post(client, updates.text(CHAT, "xin chào"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert fake_rasa.calls == []


def test_without_a_bot_token_the_route_does_not_exist(
    tg_settings: Settings, fake_rasa: FakeRasa
) -> None:
    settings = tg_settings.model_copy(update={"telegram_bot_token": None})
    with TestClient(service_app(settings)) as client:
        response = post(client, updates.text(CHAT, "xin chào"))
    assert response.status_code == 404
    assert fake_rasa.calls == []


def test_a_photo_through_the_webhook(
    client: TestClient, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    data = phone_jpeg()
    update = updates.photo(CHAT, fake_telegram.add_file(data), file_size=len(data))
    assert post(client, update).status_code == 200

    (call,) = fake_rasa.calls
    assert call["message"] == "/report_problem"
    assert call["metadata"]["attachments"][0]["content_type"] == "image/jpeg"


def test_an_update_that_cannot_be_recorded_is_refused_for_telegram_to_retry(
    client: TestClient, tg_settings: Settings, fake_rasa: FakeRasa
) -> None:
    engine = make_engine(tg_settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE telegram_updates"))  # the database "fails"
    engine.dispose()

    response = post(client, updates.text(CHAT, "xin chào"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert fake_rasa.calls == []
