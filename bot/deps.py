"""Dependencies injected into routes, built once in the app's lifespan.

They are ``async def`` although they do not await: FastAPI runs a plain ``def`` dependency in
its thread pool, and three thread hops cost a citizen's message ~1.4 ms on this machine
(docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.rasa import RasaClient
from bot.ratelimit import RateLimiter
from bot.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.citizen_limiter
    return limiter


async def _address_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.address_limiter
    return limiter


async def _rasa(request: Request) -> RasaClient:
    rasa: RasaClient = request.app.state.rasa
    return rasa


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(_session_factory)]
RasaDep = Annotated[RasaClient, Depends(_rasa)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
AddressLimiterDep = Annotated[RateLimiter, Depends(_address_limiter)]
