"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.deps import RasaDep, SessionFactoryDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The service process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database and the Rasa server answer")
async def readyz(session_factory: SessionFactoryDep, rasa: RasaDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with session_factory() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"error: {type(exc).__name__}"
    checks["rasa"] = "ok" if await rasa.healthy() else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(status_code=200 if ready else 503, content={"ready": ready, **checks})
