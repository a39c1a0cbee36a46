"""The action server's client for the service's API (procedures, applications)."""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_SERVICE_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 10.0


class ServiceUnavailableError(RuntimeError):
    """The service did not answer, or answered with a server error."""


class ServiceClient:
    def __init__(self, base_url: str | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = (base_url or os.environ.get("SERVICE_URL") or DEFAULT_SERVICE_URL).rstrip(
            "/"
        )
        self.timeout = timeout

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON body, or None for a 404 (unknown code)."""
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout) as http:
                response = await http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(str(exc)) from exc
        if response.status_code in (404, 422):
            return None
        if response.status_code >= 400:
            raise ServiceUnavailableError(f"{path}: HTTP {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    async def search(self, query: str, limit: int = 3) -> dict[str, Any]:
        body = await self._get("/api/v1/procedures/search", {"q": query[:500], "limit": limit})
        return body or {"matched": False, "hits": [], "alternatives": [], "terms": []}

    async def answer(
        self, code: str, aspect: str, *, full: bool = False, commune: str | None = None
    ) -> dict[str, Any] | None:
        params: dict[str, Any] = {"aspect": aspect, "full": str(full).lower()}
        if commune:
            params["commune"] = commune
        return await self._get(f"/api/v1/procedures/{code}/answer", params)

    async def application(self, code: str) -> dict[str, Any] | None:
        return await self._get(f"/api/v1/applications/{code}")
