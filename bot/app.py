"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot import __version__
from bot.applications.adapter import load_one_stop_shop
from bot.applications.routes import router as applications_router
from bot.channels.host.keys import HostKeys
from bot.channels.host.routes import router as host_router
from bot.channels.host.routes import uploads as host_uploads
from bot.channels.miniapp.routes import mount_static
from bot.channels.miniapp.routes import router as miniapp_router
from bot.channels.miniapp.routes import uploads as miniapp_uploads
from bot.channels.telegram.runtime import WEBHOOK_PATH, open_telegram
from bot.channels.telegram.webhook import router as telegram_router
from bot.conversations.rasa import open_rasa
from bot.conversations.routes import router as conversation_router
from bot.db import make_engine, make_sessionmaker
from bot.errors import install_error_handlers
from bot.health import router as health_router
from bot.inputguard import InputGuard
from bot.logs import configure_logging
from bot.media.routes import router as media_router
from bot.open311.routes import router as open311_router
from bot.procedures.routes import router as procedures_router
from bot.procedures.search import ProcedureSearch
from bot.ratelimit import RateLimiter
from bot.reports.catalog import default_catalog
from bot.reports.internal_routes import router as internal_reports_router
from bot.settings import Settings, get_settings
from bot.staff.reporters import router as staff_reporters_router
from bot.staff.routes import router as staff_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        async with open_rasa(settings) as app.state.rasa:
            app.state.settings = settings
            app.state.session_factory = factory = make_sessionmaker(engine)
            app.state.host_keys = HostKeys(factory)
            app.state.procedure_search = ProcedureSearch()
            default_catalog()  # read and trained once here, not on a citizen's first report
            app.state.one_stop_shop = load_one_stop_shop(settings.one_stop_shop, factory)
            # The citizens' Telegram bot (webhook mode), when a token is configured.
            async with open_telegram(settings, factory, app.state.rasa) as app.state.telegram:
                yield
        engine.dispose()

    app = FastAPI(
        title="Hue-S Assistant",
        version=__version__,
        description=(
            "Vietnamese assistant for the citizens of Huế: conversation, procedure and "
            "application-status API."
        ),
        lifespan=lifespan,
    )
    # Messages per citizen per minute on every HTTP channel (one count per process)...
    app.state.citizen_limiter = RateLimiter(settings.citizen_messages_per_minute)
    # ... and per client address on the open web chat, where new sessions cost nothing.
    app.state.address_limiter = RateLimiter(settings.web_messages_per_minute_per_address)
    install_error_handlers(app)
    # Lone surrogates, control characters and non-UTF-8 text are refused before any route
    # (bot/inputguard.py); Telegram's updates are checked by the bot, which answers in the chat.
    app.add_middleware(InputGuard, exempt_bodies=frozenset({WEBHOOK_PATH}))
    app.include_router(health_router)
    app.include_router(conversation_router)
    app.include_router(procedures_router)
    app.include_router(applications_router)
    app.include_router(staff_router)
    app.include_router(staff_reporters_router)
    app.include_router(open311_router)
    app.include_router(internal_reports_router)
    app.include_router(media_router)
    app.include_router(telegram_router)
    app.include_router(miniapp_router)
    app.include_router(miniapp_uploads)
    app.include_router(host_router)
    app.include_router(host_uploads)
    mount_static(app)
    return app
