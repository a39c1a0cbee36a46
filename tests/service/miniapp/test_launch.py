"""Opening the mini-app: launch tokens of host apps, Telegram initData, guests — and refusals.

Every refusal is a 401 with a code saying what was wrong and a Vietnamese message, and opens
no session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.apiclients.models import ApiClient, HostConfigError, create_host
from bot.app import create_app
from bot.channels.miniapp.models import MiniAppSession
from bot.db import make_engine, make_sessionmaker
from bot.settings import Settings
from tests.service.miniapp.hosts import add_host, public_pem, rsa_key

BOT_TOKEN = "123456:TEST-telegram-bot-token"


def sessions(settings: Settings) -> int:
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(MiniAppSession)) or 0)


def open_with(client: TestClient, **body: str):
    return client.post("/api/v1/miniapp/session", json=body)


def refused(response, code: str) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert "mở lại trợ lý" in error["message"]


@pytest.mark.parametrize("rs256", [False, True], ids=["HS256", "RS256"])
def test_a_host_launch_token_opens_a_session_for_that_citizen(
    client: TestClient, settings, fake_rasa, rs256
):
    host = add_host(settings, rs256=rs256)
    response = open_with(client, launch_token=host.token("citizen-42"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["channel"], body["name"]) == ("hue-s", "Nguyễn Văn A")
    headers = {"Authorization": f"Bearer {body['session_token']}"}
    reply = client.post("/api/v1/miniapp/messages", json={"text": "chào"}, headers=headers)
    assert reply.status_code == 200, reply.text
    [call] = fake_rasa.calls
    assert call["sender"] == "host:hue-s:citizen-42"
    assert call["metadata"]["channel"] == "hue-s"


def test_a_replayed_launch_token_is_refused(client: TestClient, settings):
    host = add_host(settings)
    token = host.token()
    assert open_with(client, launch_token=token).status_code == 201
    refused(open_with(client, launch_token=token), "launch_token_replayed")
    assert sessions(settings) == 1


def test_an_expired_launch_token_is_refused(client: TestClient, settings):
    host = add_host(settings)
    now = int(time.time())
    refused(
        open_with(client, launch_token=host.token(iat=now - 200, exp=now - 60)),
        "launch_token_expired",
    )
    assert sessions(settings) == 0


def test_a_launch_token_older_than_allowed_is_refused_even_if_not_expired(
    client: TestClient, settings
):
    host = add_host(settings)
    now = int(time.time())
    # Issued 10 minutes ago (the limit is 5), valid for another minute.
    old = host.token(iat=now - 600, exp=now + 60)
    refused(open_with(client, launch_token=old), "launch_token_expired")
    # Issued now but valid for an hour: longer-lived than allowed.
    refused(open_with(client, launch_token=host.token(exp=now + 3600)), "launch_token_expired")
    assert sessions(settings) == 0


def test_a_launch_token_for_another_audience_is_refused(client: TestClient, settings):
    host = add_host(settings)
    refused(
        open_with(client, launch_token=host.token(aud="another-service")),
        "launch_token_wrong_audience",
    )
    assert sessions(settings) == 0


@pytest.mark.parametrize(
    "forge",
    [
        "wrong_secret",
        "tampered_subject",
        "alg_none",
        "unknown_issuer",
        "missing_jti",
        "missing_exp",
        "bad_subject",
        "not_a_jwt",
    ],
)
def test_a_forged_or_malformed_launch_token_is_refused(client: TestClient, settings, forge):
    host = add_host(settings)
    claims = host.claims("c1")
    if forge == "wrong_secret":
        token = jwt.encode(claims, "not-the-host-secret-0123456789-abcdef", algorithm="HS256")
    elif forge == "tampered_subject":
        header, _, signature = host.token("c1").split(".")
        other = jwt.utils.base64url_encode(json.dumps({**claims, "sub": "victim"}).encode())
        token = f"{header}.{other.decode()}.{signature}"
    elif forge == "alg_none":
        token = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    elif forge == "unknown_issuer":
        token = host.token(iss="someone-else")
    elif forge == "missing_jti":
        token = host.token(jti=None)
    elif forge == "missing_exp":
        token = host.token(exp=None)
    elif forge == "bad_subject":
        token = host.token(sub="<script>alert(1)</script>")
    else:
        token = "this.is-not-a-jwt"
    refused(open_with(client, launch_token=token), "launch_token_invalid")
    assert sessions(settings) == 0


def test_an_rs256_host_does_not_accept_hs256_signed_with_its_public_key(
    client: TestClient, settings
):
    """The algorithm-confusion attack: the public key is public, so it must not be an HMAC key."""
    host = add_host(settings, rs256=True)
    claims = host.claims("c1")
    pem = public_pem(host.private_key).encode()
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signing_input = header + b"." + payload
    signature = jwt.utils.base64url_encode(hmac.new(pem, signing_input, hashlib.sha256).digest())
    refused(
        open_with(client, launch_token=(signing_input + b"." + signature).decode()),
        "launch_token_invalid",
    )
    # And a token signed by another RSA key is refused too.
    other = jwt.encode(claims, rsa_key(), algorithm="RS256")
    refused(open_with(client, launch_token=other), "launch_token_invalid")


def test_a_disabled_host_cannot_open_sessions(client: TestClient, settings):
    host = add_host(settings)
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        session.get_one(ApiClient, host.new.client.id).active = False
        session.commit()
    refused(open_with(client, launch_token=host.token()), "launch_token_invalid")


def test_host_settings_are_checked_when_a_host_is_added(settings):
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        with pytest.raises(HostConfigError, match="slug"):
            create_host(session, name="X", slug="Bad Slug!")
        with pytest.raises(HostConfigError, match="webhook"):
            create_host(session, name="X", slug="okay", webhook_url="ftp://example")
        with pytest.raises(HostConfigError, match="PEM"):
            create_host(session, name="X", slug="okay", launch_public_key_pem="not a key")
        create_host(session, name="X", slug="okay")
        with pytest.raises(HostConfigError, match="Đã có"):
            create_host(session, name="Y", slug="okay")


def telegram_init_data(token: str, user_id: int = 777, auth_date: int | None = None) -> str:
    """initData as Telegram builds it: fields, then the HMAC-SHA256 hash keyed by the bot."""
    fields = {
        "auth_date": str(auth_date or int(time.time())),
        "query_id": "AAE",
        "user": json.dumps({"id": user_id, "first_name": "Lan", "language_code": "vi"}),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@pytest.fixture
def telegram_client(settings: Settings):
    # The bot token signs initData; nothing in these tests calls Telegram.
    configured = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(BOT_TOKEN),
            "telegram_webhook_secret": SecretStr("hook-secret"),
        }
    )
    with TestClient(create_app(configured)) as test_client:
        yield test_client


def test_a_telegram_mini_app_is_the_same_citizen_as_the_telegram_chat(
    telegram_client: TestClient, fake_rasa
):
    fake_rasa.calls.clear()
    response = open_with(telegram_client, telegram_init_data=telegram_init_data(BOT_TOKEN))
    assert response.status_code == 201, response.text
    assert (response.json()["channel"], response.json()["name"]) == ("telegram", "Lan")
    headers = {"Authorization": f"Bearer {response.json()['session_token']}"}
    telegram_client.post("/api/v1/miniapp/messages", json={"text": "chào"}, headers=headers)
    assert fake_rasa.calls[-1]["sender"] == "telegram:777"


def test_telegram_init_data_signed_by_another_bot_or_too_old_is_refused(
    telegram_client: TestClient, settings
):
    forged = telegram_init_data("999:another-bot")
    refused(open_with(telegram_client, telegram_init_data=forged), "telegram_init_data_invalid")
    stale = telegram_init_data(BOT_TOKEN, auth_date=int(time.time()) - 2 * 3600)
    refused(open_with(telegram_client, telegram_init_data=stale), "telegram_init_data_expired")
    tampered = telegram_init_data(BOT_TOKEN).replace("777", "778")
    refused(open_with(telegram_client, telegram_init_data=tampered), "telegram_init_data_invalid")
    assert sessions(settings) == 0


def test_telegram_init_data_is_refused_when_no_bot_is_configured(client: TestClient):
    refused(
        open_with(client, telegram_init_data=telegram_init_data(BOT_TOKEN)),
        "telegram_not_configured",
    )


def test_a_guest_session_opens_only_when_guest_chat_is_allowed(settings: Settings):
    with TestClient(create_app(settings)) as client:
        response = open_with(client)
        assert response.status_code == 201
        assert response.json()["channel"] == "web"
    closed = settings.model_copy(update={"web_guest_chat": False})
    with TestClient(create_app(closed)) as client:
        response = open_with(client)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "launch_token_required"
    assert sessions(settings) == 1
