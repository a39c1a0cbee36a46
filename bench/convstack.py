"""The running assistant for the conversation benchmark, and the client that drives it.

The stack is started as `make run` starts it (bot.devserver), with what only the bench needs:
Rasa's HTTP API on localhost behind a random token (the tracker is read from it), no
throttling of the web chat, and logs in a folder of the caller's choice.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench.convdata import Conversation, Message
from bench.convscore import TurnRecord
from bot import devserver, engine
from bot.applications.seed import seed_demo
from bot.conversations.citizens import web_sender_id
from bot.db import make_engine, make_sessionmaker
from bot.procedures.importer import import_catalog
from bot.settings import Environment, Settings
from tests.service.conftest import free_port, migrate

ROOT = Path(__file__).resolve().parent.parent

SECRET = "bench-gateway-secret-0123456789"
# The bench sends hundreds of messages a minute from one address: no throttling for it.
UNTHROTTLED = {
    "CITIZEN_MESSAGES_PER_MINUTE": "1000000",
    "WEB_MESSAGES_PER_MINUTE_PER_ADDRESS": "1000000",
}
SEARCH_MAX_CHARS = 500  # the search API's limit on q
TIMEOUT = httpx.Timeout(120.0)


def sender_id(session_id: str) -> str:
    """The web chat's sender id for a session: the conversation's id in Rasa's tracker."""
    return web_sender_id(session_id)


@dataclass
class Stack:
    service: str
    rasa: str
    token: str


def _start(child: devserver.Child, log_dir: Path) -> None:
    """As Child.start, with the log in ``log_dir`` (a held-out run's logs are thrown away)."""
    log = (log_dir / f"{child.name}.log").open("ab")
    child.process = subprocess.Popen(
        child.cmd, cwd=ROOT, env=child.env, stdout=log, stderr=subprocess.STDOUT
    )


@contextmanager
def running_stack(tmp: Path, log_dir: Path) -> Iterator[Stack]:
    """Rasa (with its HTTP API on localhost, behind a random token), the action server and
    the service on a migrated SQLite database with the catalogue and the demo applications."""
    settings = Settings(
        environment=Environment.TEST,
        database_url=f"sqlite:///{tmp / 'service.db'}",
        tracker_store_url=f"sqlite:///{tmp / 'tracker.db'}",
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    say("database: migrate, import the catalogue, seed the demo applications")
    migrate(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    failed = import_catalog(factory).failed
    if failed:
        raise RuntimeError(f"catalogue import failed for {len(failed)} procedures")
    seed_demo(factory)
    ports = {"port": free_port(), "rasa_port": free_port(), "action_port": free_port()}
    token = secrets.token_urlsafe(24)
    children = [
        c
        for c in devserver.build_children(settings, **ports)
        if c.name in {"action-server", "rasa", "service"}
    ]
    for child in children:
        if child.name == "rasa":
            # The tracker is read over Rasa's HTTP API: enabled for the bench's Rasa only.
            # One argument: a token starting with "-" would be read as an option.
            child.cmd += ["--enable-api", f"--auth-token={token}"]
        if child.name == "service":
            child.cmd += ["--no-access-log"]
            child.env = {**(child.env or {}), **UNTHROTTLED}
    try:
        for child in children:
            _start(child, log_dir)
        dead = devserver.wait_healthy(children, timeout=300)
        if dead is not None:
            raise RuntimeError(f"{dead.name} exited while starting (log: {log_dir})")
        yield Stack(
            service=f"http://127.0.0.1:{ports['port']}",
            rasa=f"http://127.0.0.1:{ports['rasa_port']}",
            token=token,
        )
    finally:
        devserver.stop_all(children)


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# -- driving the assistant -------------------------------------------------------------------


class Driver:
    """Sends citizens' messages and reads what each did from Rasa's tracker."""

    def __init__(self, client: httpx.AsyncClient, stack: Stack, *, secret_texts: bool) -> None:
        self.client = client
        self.stack = stack
        self.secret_texts = secret_texts  # held out: an error is named by its type only

    def _error(self, exc: Exception) -> str:
        return type(exc).__name__ if self.secret_texts else f"{type(exc).__name__}: {exc}"

    async def _tracker(self, session_id: str) -> dict[str, Any]:
        url = f"{self.stack.rasa}/conversations/{quote(sender_id(session_id), safe=':')}/tracker"
        response = await self.client.get(
            url, params={"include_events": "ALL", "token": self.stack.token}
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker

    async def _chat(self, text: str, session_id: str | None) -> dict[str, Any]:
        body = {"text": text, "session_id": session_id}
        for attempt in range(3):
            response = await self.client.post(f"{self.stack.service}/api/v1/chat", json=body)
            if response.status_code in {429, 503} and attempt < 2:
                await asyncio.sleep(2 + 3 * attempt)
                continue
            response.raise_for_status()
            reply: dict[str, Any] = response.json()
            return reply
        raise AssertionError("unreachable")

    async def conversation(self, texts: list[str]) -> list[TurnRecord]:
        """Each text in turn in one chat; a failed turn ends the conversation (the rest fail)."""
        records: list[TurnRecord] = []
        session_id: str | None = None
        state: dict[str, Any] = {"slots": {}, "active_loop": {}, "events": []}
        for text in texts:
            if records and records[-1].error:
                records.append(TurnRecord(error="an earlier turn failed"))
                continue
            try:
                reply = await self._chat(text, session_id)
                session_id = reply["session_id"]
                tracker = await self._tracker(session_id)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                records.append(TurnRecord(error=self._error(exc)))
                continue
            seen = len(state["events"])
            records.append(
                TurnRecord(
                    replies=reply.get("replies") or [],
                    events=(tracker.get("events") or [])[seen:],
                    before={"slots": state["slots"], "active_loop": state["active_loop"]},
                    after={
                        "slots": tracker.get("slots"),
                        "active_loop": tracker.get("active_loop"),
                    },
                )
            )
            state = tracker
        return records

    async def search_top(self, text: str) -> str | None:
        query = unicodedata.normalize("NFC", text).strip()[:SEARCH_MAX_CHARS]
        response = await self.client.get(
            f"{self.stack.service}/api/v1/procedures/search", params={"q": query, "limit": 3}
        )
        response.raise_for_status()
        found = response.json()
        return found["hits"][0]["code"] if found["matched"] and found["hits"] else None


async def _pool(jobs: list[Any], work: Any, concurrency: int, what: str) -> None:
    """Run ``work(job)`` for every job, ``concurrency`` at a time, printing progress."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    done = 0
    started = last = time.monotonic()

    async def worker() -> None:
        nonlocal done, last
        while not queue.empty():
            await work(queue.get_nowait())
            done += 1
            now = time.monotonic()
            if now - last >= 15 or done == len(jobs):
                last = now
                rate = done / max(now - started, 1e-6)
                print(f"    {what}: {done}/{len(jobs)} ({rate:.1f}/s)", flush=True)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))


@dataclass
class Recorded:
    messages: dict[str, TurnRecord]
    search: dict[str, str | None]
    conversations: dict[str, list[TurnRecord]]


async def drive(
    stack: Stack,
    messages: list[Message],
    conversations: list[Conversation],
    *,
    concurrency: int,
    secret_texts: bool,
) -> Recorded:
    recorded = Recorded({}, {}, {})
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        driver = Driver(client, stack, secret_texts=secret_texts)

        async def one_message(m: Message) -> None:
            [recorded.messages[m.id]] = await driver.conversation([m.text])
            if m.kind == "procedure":
                try:
                    recorded.search[m.id] = await driver.search_top(m.text)
                except httpx.HTTPError:
                    recorded.search[m.id] = None

        async def one_conversation(c: Conversation) -> None:
            recorded.conversations[c.id] = await driver.conversation([t.user for t in c.turns])

        say(f"single messages: {len(messages)}, {concurrency} chats at a time")
        await _pool(messages, one_message, concurrency, "messages")
        say(f"conversations: {len(conversations)}, {concurrency} at a time")
        await _pool(conversations, one_conversation, concurrency, "conversations")
    return recorded


# -- the linear floor (engine environment) ---------------------------------------------------


def linear_floor(texts: list[str]) -> tuple[list[str], float] | None:
    """Intents of the linear floor (bench/linear_floor.py in .venv-engine) for ``texts``, and
    the C its cross-validation on data/nlu chose."""
    if not texts:
        return [], 0.0
    python = engine.ENGINE_BIN / "python"
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / "linear_floor.py")],
        input=json.dumps({"texts": texts}, ensure_ascii=False),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode != 0:
        say(f"linear floor failed (exit {done.returncode}); its figure is left out")
        return None
    result = json.loads(done.stdout)
    return [str(i) for i in result["intents"]], float(result["C"])
