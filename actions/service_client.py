"""The action server's client for the service's API (procedures, applications, reports).

Report calls go to the internal API with the key in INTERNAL_API_TOKEN (the service holds
the same value); they name the citizen by the conversation's sender id.
"""

from __future__ import annotations

import asyncio
import copy
import json as jsonlib
import os
import time
import weakref
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_SERVICE_URL = "http://127.0.0.1:8000"
# The development default (the service refuses it in production).
DEFAULT_INTERNAL_TOKEN = "dev-internal-token-change-me"  # noqa: S105
TIMEOUT_SECONDS = 10.0


class ServiceUnavailableError(RuntimeError):
    """The service did not answer, or answered with a server error."""


class ServiceRefusedError(RuntimeError):
    """The service refused the request; ``message`` is the Vietnamese sentence to show."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# One HTTP client per event loop and service address, with its pool of kept-alive
# connections: a new client per call built a TLS context each time, which was three quarters
# of the action server's CPU (issue 18). Keyed by the loop, because a client belongs to the
# loop it was first used in (the action server has one; tests make one per test).
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, float], Any]] = (
    weakref.WeakKeyDictionary()
)


def shared_http(base_url: str, timeout: float) -> httpx.AsyncClient:
    """The running loop's client for ``base_url`` (made on first use, made again if closed)."""
    clients = _CLIENTS.setdefault(asyncio.get_running_loop(), {})
    client: httpx.AsyncClient | None = clients.get((base_url, timeout))
    if client is None or client.is_closed:
        client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        clients[(base_url, timeout)] = client
    return client


# The answers of the pure reads (search, report preview) to the last few requests, per loop:
# one message is weighed by several actions in one turn (the weigh, the form's first look,
# the description's validation) and each asked the service the same question again.
_RECENT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict[str, Any]] = (
    weakref.WeakKeyDictionary()
)
RECENT_SIZE = 64
RECENT_SECONDS = 30.0


def _remembered(key: str) -> Any | None:
    recent = _RECENT.get(asyncio.get_running_loop())
    kept = recent.get(key) if recent is not None else None
    if kept is None or time.monotonic() - kept[0] > RECENT_SECONDS:
        return None
    return copy.deepcopy(kept[1])  # a caller may change what it was given


def _remember(key: str, body: Any) -> None:
    recent = _RECENT.setdefault(asyncio.get_running_loop(), OrderedDict())
    recent[key] = (time.monotonic(), copy.deepcopy(body))
    recent.move_to_end(key)
    while len(recent) > RECENT_SIZE:
        recent.popitem(last=False)


def _segment(value: str) -> str:
    """A code from the conversation as one path segment: it may come from a button payload a
    citizen forged, so "/" and ".." can never reach another path of the service."""
    return quote(value.strip(), safe="")


class ServiceClient:
    def __init__(self, base_url: str | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = (base_url or os.environ.get("SERVICE_URL") or DEFAULT_SERVICE_URL).rstrip(
            "/"
        )
        self.timeout = timeout
        token = os.environ.get("INTERNAL_API_TOKEN") or DEFAULT_INTERNAL_TOKEN
        self._internal_headers = {"Authorization": f"Bearer {token}"}

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON body, or None for a 404 (unknown code)."""
        try:
            http = shared_http(self.base_url, self.timeout)
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
        key = jsonlib.dumps([self.base_url, "search", query[:500], limit])
        body = _remembered(key)
        if body is None:
            body = await self._get("/api/v1/procedures/search", {"q": query[:500], "limit": limit})
            if body is not None:
                _remember(key, body)
        return body or {"matched": False, "hits": [], "alternatives": [], "terms": []}

    async def answer(
        self, code: str, aspect: str, *, full: bool = False, commune: str | None = None
    ) -> dict[str, Any] | None:
        params: dict[str, Any] = {"aspect": aspect, "full": str(full).lower()}
        if commune:
            params["commune"] = commune
        return await self._get(f"/api/v1/procedures/{_segment(code)}/answer", params)

    async def procedure_name(self, code: str) -> str | None:
        """The official name of a procedure (None for an unknown code)."""
        key = jsonlib.dumps([self.base_url, "name", code])
        name = _remembered(key)
        if name is None:
            body = await self._get(f"/api/v1/procedures/{_segment(code)}")
            name = str(body["name"]) if body else None
            if name is not None:
                _remember(key, name)
        return name

    async def application(self, code: str) -> dict[str, Any] | None:
        return await self._get(f"/api/v1/applications/{_segment(code)}")

    async def _internal(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A call to the internal report API; refusals carry the service's Vietnamese message."""
        try:
            response = await shared_http(self.base_url, self.timeout).request(
                method,
                f"/api/v1/internal{path}",
                json=json,
                params=params,
                headers=self._internal_headers,
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(str(exc)) from exc
        if response.status_code >= 500 or response.status_code == 401:
            raise ServiceUnavailableError(f"{path}: HTTP {response.status_code}")
        body: dict[str, Any] = response.json()
        if response.status_code >= 400:
            error = body.get("error") or {}
            raise ServiceRefusedError(
                response.status_code, str(error.get("code")), str(error.get("message"))
            )
        return body

    async def report_preview(self, draft: dict[str, Any]) -> dict[str, Any]:
        key = jsonlib.dumps([self.base_url, "preview", draft], sort_keys=True, default=str)
        body = _remembered(key)
        if body is None:
            body = await self._internal("POST", "/reports/preview", json=draft)
            _remember(key, body)
        return body

    async def report_categories(self) -> list[dict[str, str]]:
        body = await self._internal("GET", "/reports/categories")
        return list(body["categories"])

    async def submit_report(self, report: dict[str, Any]) -> dict[str, Any]:
        return await self._internal("POST", "/reports", json=report)

    async def citizen_reports(self, citizen: str) -> list[dict[str, Any]]:
        body = await self._internal("GET", "/reports", params={"citizen": citizen})
        return list(body["reports"])

    async def citizen_report(self, code: str, citizen: str) -> dict[str, Any]:
        return await self._internal(
            "GET", f"/reports/{_segment(code)}", params={"citizen": citizen}
        )

    async def follow_report(self, code: str, citizen: str, channel: str) -> dict[str, Any]:
        body = {"citizen": citizen, "channel": channel}
        return await self._internal("POST", f"/reports/{_segment(code)}/follow", json=body)

    async def rate_report(self, code: str, citizen: str, rating: int) -> dict[str, Any]:
        body = {"citizen": citizen, "rating": rating}
        return await self._internal("POST", f"/reports/{_segment(code)}/rating", json=body)

    async def reopen_report(self, code: str, citizen: str, reason: str) -> dict[str, Any]:
        body = {"citizen": citizen, "reason": reason}
        return await self._internal("POST", f"/reports/{_segment(code)}/reopen", json=body)
