"""Typed settings, read once from the environment (and .env) at start-up and passed down."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Secrets that ship in .env.example and the development defaults; refused in production.
PLACEHOLDER_SECRETS = {
    "",
    "change-me",
    "changeme",
    "dev-gateway-secret-change-me",
    "dev-staff-token-secret-change-me-0123456789",
    "dev-webhook-secret-change-me",
    "dev-internal-token-change-me",
    "secret",
}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything the service reads from its environment (see .env.example)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite:///{ROOT / 'var' / 'hue_s.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's own conversation store (SQLAlchemy URL; PostgreSQL in production).
    tracker_store_url: str = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
    gateway_secret: SecretStr = SecretStr("dev-gateway-secret-change-me")
    rasa_timeout_seconds: float = Field(default=30.0, gt=0)
    max_message_chars: int = Field(default=2000, ge=1)
    log_level: str = "INFO"
    log_json: bool = False
    public_base_url: str = "http://127.0.0.1:8000"
    # The one-stop-shop adapter ("module:Class", built with the session factory); see
    # docs/integration/one-stop-shop.md.
    one_stop_shop: str = "bot.applications.adapter:DatabaseOneStopShop"
    # Signs staff API tokens (HS256; at least 32 characters).
    staff_token_secret: SecretStr = SecretStr("dev-staff-token-secret-change-me-0123456789")
    # A staff access token lasts this long; POST /api/v1/staff/token/refresh with a live one
    # gives the next (so idle this long = logged out), and a login session ends after
    # STAFF_SESSION_HOURS whatever is done.
    staff_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    staff_session_hours: float = Field(default=12.0, gt=0, le=7 * 24)
    # Failed staff logins: a username (known or not) is locked after this many in a row, a
    # client address after this many in an hour across usernames; the first lock lasts
    # STAFF_LOCKOUT_MINUTES and each further one twice as long (at most a day).
    staff_login_max_failures: int = Field(default=5, ge=1)
    staff_address_max_failures: int = Field(default=20, ge=1)
    staff_lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # Notifications (the outbox worker): SMTP for e-mail, a key to sign webhooks, and the
    # Telegram bot that posts to agencies' groups (unset: those messages wait and retry).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "hue-s@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    webhook_signing_secret: SecretStr = SecretStr("dev-webhook-secret-change-me")
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    # The citizens' Telegram bot (the same token): webhook mode checks this secret token
    # (X-Telegram-Bot-Api-Secret-Token; letters, digits, _ and -, 1–256 characters);
    # unset, `hue-s telegram poll` uses long polling (development).
    telegram_webhook_secret: SecretStr | None = None
    # Messages one Telegram user may send per minute before being asked to slow down.
    telegram_messages_per_minute: int = Field(default=20, ge=1)
    # The mini-app and the host API (docs/integration/host-app.md): messages one citizen may
    # send per minute; launch tokens (JWT signed by the host app, key per host in the
    # database) must name this audience and be at most this old; a mini-app session lasts this
    # long; a Telegram Mini App's initData may be this old. WEB_GUEST_CHAT lets the page open
    # without a launch token, as an anonymous web chat (false: only hosts may open it).
    citizen_messages_per_minute: int = Field(default=20, ge=1)
    # The open web chat also counts per client address (new sessions are free to make); an
    # address can be a whole school or office behind NAT, hence the higher default.
    web_messages_per_minute_per_address: int = Field(default=60, ge=1)
    launch_token_audience: str = "hue-s-assistant"  # noqa: S105 (a name, not a secret)
    launch_token_max_age_seconds: int = Field(default=300, ge=10, le=900)
    miniapp_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    telegram_init_data_max_age_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    web_guest_chat: bool = True
    outbox_interval_seconds: float = Field(default=5.0, gt=0)
    # The action server's key to the service's internal API (/api/v1/internal/…): it files
    # reports and reads their status on a citizen's behalf. At least 16 characters in
    # production; the action server gets the same value (INTERNAL_API_TOKEN).
    internal_api_token: SecretStr = SecretStr("dev-internal-token-change-me")
    # Photos citizens and staff attach (JPEG, PNG, WebP; re-encoded, metadata stripped).
    media_dir: Path = ROOT / "var" / "media"
    media_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            secret = self.gateway_secret.get_secret_value()
            if secret in PLACEHOLDER_SECRETS or len(secret) < 16:
                raise ValueError(
                    "GATEWAY_SECRET is a placeholder or shorter than 16 characters; "
                    "set a real secret in production"
                )
            signing = self.webhook_signing_secret.get_secret_value()
            if signing in PLACEHOLDER_SECRETS or len(signing) < 32:
                raise ValueError(
                    "WEBHOOK_SIGNING_SECRET is a placeholder or shorter than 32 characters"
                )
            internal = self.internal_api_token.get_secret_value()
            if internal in PLACEHOLDER_SECRETS or len(internal) < 16:
                raise ValueError(
                    "INTERNAL_API_TOKEN is a placeholder or shorter than 16 characters"
                )
            token = self.staff_token_secret.get_secret_value()
            if token in PLACEHOLDER_SECRETS or len(token) < 32:
                raise ValueError(
                    "STAFF_TOKEN_SECRET is a placeholder or shorter than 32 characters; "
                    "set a real secret in production"
                )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    # -- input edges (issue #13) ------------------------------------------------------------
    # Open311 GeoReport v2: the one jurisdiction this endpoint serves (named in discovery). A
    # request may omit jurisdiction_id; any other value is refused (400). The city's web domain,
    # as Open311 jurisdictions conventionally are.
    open311_jurisdiction_id: str = Field(default="hue.gov.vn", min_length=1, max_length=100)


def get_settings() -> Settings:
    """Settings from the environment; call once at start-up."""
    return Settings()
