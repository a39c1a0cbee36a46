"""A local stand-in for the Telegram Bot API: a real HTTP server (FastAPI + uvicorn, in a thread).

It implements what the bot calls (getMe, sendMessage, sendPhoto, sendChatAction,
answerCallbackQuery, getFile and the file download path, setWebhook, deleteWebhook,
setMyCommands, getUpdates with long polling) and records every call. aiogram is pointed at it
by its API server setting (TELEGRAM_API_BASE), exactly as at the real one.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from itertools import count
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.service.conftest import free_port

TOKEN = "123456789:AAE-fake-token_for-tests"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Hue-S", "username": "hue_s_test_bot"}
# Form fields aiogram sends as JSON text.
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "menu_button",
    "entities",
    "link_preview_options",
    "reply_parameters",
}
MAX_POLL_WAIT = 0.5  # seconds: getUpdates honours its timeout, but briefly


class FakeTelegram:
    def __init__(self) -> None:
        self.port = free_port()
        self.token = TOKEN
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.downloads: list[str] = []
        self.files: dict[str, dict[str, Any]] = {}  # file_id → {file_path, data, file_size}
        self.updates: list[dict[str, Any]] = []
        self.refused_photo_urls: set[str] = set()
        self.failing_sends = 0  # the next n sendMessage calls fail with a server error
        self._message_ids = count(1)
        self._lock = threading.Lock()
        app = FastAPI()

        @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
        async def api(token: str, method: str, request: Request) -> JSONResponse:
            if token != self.token:
                return _error(401, "Unauthorized")
            params = await _params(request)
            name = method.lower()
            with self._lock:
                self.calls.append((method, params))
            handler = getattr(self, f"_api_{name}", None)
            if handler is None:
                return _error(404, "Not Found: method not found")
            result = await handler(params)
            if isinstance(result, JSONResponse):
                return result
            return JSONResponse({"ok": True, "result": result})

        @app.get("/file/bot{token}/{path:path}")
        async def download(token: str, path: str) -> Response:
            if token != self.token:
                return Response(status_code=401)
            self.downloads.append(path)
            for file in self.files.values():
                if file["file_path"] == path:
                    return Response(file["data"], media_type="application/octet-stream")
            return Response(status_code=404)

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    # -- test side ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.downloads.clear()
            self.files.clear()
            self.updates.clear()
            self.refused_photo_urls.clear()
            self.failing_sends = 0

    def add_file(self, data: bytes, *, file_size: int | None = None, suffix: str = "jpg") -> str:
        """Make ``data`` downloadable; returns its file_id (file_size: what getFile says)."""
        file_id = f"file-{uuid.uuid4().hex[:12]}"
        self.files[file_id] = {
            "file_path": f"photos/{file_id}.{suffix}",
            "data": data,
            "file_size": len(data) if file_size is None else file_size,
        }
        return file_id

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)

    def called(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name.lower() == method.lower()]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """sendMessage and sendPhoto calls, in order (to ``chat_id`` only, if given)."""
        with self._lock:
            calls = [
                {"method": name, **params}
                for name, params in self.calls
                if name.lower() in {"sendmessage", "sendphoto"}
            ]
        return [c for c in calls if chat_id is None or int(c["chat_id"]) == chat_id]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c["text"] for c in self.sent(chat_id) if "text" in c]

    def __enter__(self) -> FakeTelegram:
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.post(f"{self.url}/bot{self.token}/getMe")
                self.calls.clear()
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("fake Telegram did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    # -- Bot API methods -----------------------------------------------------------------

    def _message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT_USER,
            **content,
        }

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        if self.failing_sends > 0:
            self.failing_sends -= 1
            return _error(500, "Internal Server Error")
        if not params.get("text") or len(params["text"].encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message text is empty or too long")
        return self._message(params["chat_id"], text=params["text"])

    async def _api_sendphoto(self, params: dict[str, Any]) -> Any:
        if params.get("photo") in self.refused_photo_urls:
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        photo = [{"file_id": "sent-photo", "file_unique_id": "sent", "width": 1, "height": 1}]
        return self._message(params["chat_id"], photo=photo)

    async def _api_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setchatmenubutton(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getfile(self, params: dict[str, Any]) -> Any:
        file = self.files.get(params.get("file_id", ""))
        if file is None:
            return _error(400, "Bad Request: invalid file_id")
        return {
            "file_id": params["file_id"],
            "file_unique_id": params["file_id"][-8:],
            "file_size": file["file_size"],
            "file_path": file["file_path"],
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), MAX_POLL_WAIT)
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                # An offset confirms every update before it: they are not served again.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": status, "description": description}, status_code=status
    )


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        params.update(await request.json())
    elif content_type:
        form = await request.form()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = json.loads(value) if key in JSON_FIELDS else value
    return params
