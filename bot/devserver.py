"""Run the whole assistant on one machine: Rasa, the action server and the service.

Used by `make run` (`hue-s up`): migrates the database, trains the model when it is missing
or stale, starts the three processes, waits until each is healthy, and stops them all on
Ctrl-C. A process that dies is reported by name and the others are stopped.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

import httpx

from bot import engine
from bot.settings import ROOT, Settings

LOG_DIR = ROOT / "var" / "log"


@dataclass
class Child:
    name: str
    cmd: list[str]
    health_url: str | None  # None: ready once started (a worker with no HTTP port)
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = (LOG_DIR / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_model(settings: Settings, *, action_port: int) -> None:
    if engine.model_is_fresh():
        say(f"model up to date: models/{engine.latest_model().name}")  # type: ignore[union-attr]
        return
    say("training the model (the first time takes a few minutes)…")
    env = engine.engine_env(settings, action_port=action_port)
    fingerprint = engine.training_fingerprint()
    subprocess.run(
        engine.rasa_cmd("train", "--data", *engine.TRAINING_DATA, "--out", str(engine.MODELS_DIR)),
        cwd=ROOT,
        env=env,
        check=True,
    )
    engine.record_trained_model(fingerprint)


def wait_healthy(children: list[Child], timeout: float) -> Child | None:
    """Wait until every child answers its health URL; return a child that died, if any."""
    pending = list(children)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as http:
        while pending and time.monotonic() < deadline:
            for child in list(pending):
                if child.exit_code() is not None:
                    return child
                if child.health_url is None:
                    say(f"{child.name} is running")
                    pending.remove(child)
                    continue
                try:
                    if http.get(child.health_url).is_success:
                        say(f"{child.name} is ready")
                        pending.remove(child)
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
    if pending:
        raise TimeoutError("not ready in time: " + ", ".join(c.name for c in pending))
    return None


def stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.terminate()
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.process.kill()


def build_children(
    settings: Settings,
    *,
    port: int,
    rasa_port: int,
    action_port: int,
    endpoints: str = "endpoints.yml",
) -> list[Child]:
    """The three processes; ``endpoints.production.yml`` adds the Redis lock store."""
    env = engine.engine_env(settings, action_port=action_port, service_port=port)
    children = [
        Child(
            "action-server",
            engine.rasa_cmd("run", "actions", "--actions", "actions", "--port", str(action_port)),
            f"http://127.0.0.1:{action_port}/health",
            env,
        ),
        Child(
            "rasa",
            engine.rasa_cmd(
                "run", "--interface", "127.0.0.1", "--port", str(rasa_port),
                "--model", str(engine.MODELS_DIR), "--credentials", "credentials.yml",
                "--endpoints", endpoints,
            ),
            f"http://127.0.0.1:{rasa_port}/webhooks/gateway/",
            env,
        ),
        Child(
            "service",
            [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port)],
            f"http://127.0.0.1:{port}/healthz",
            {
                **env,
                "RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "DATABASE_URL": settings.database_url,
            },
        ),
        Child(
            "outbox",
            [sys.executable, "-m", "bot.cli", "outbox", "run"],
            None,
            {**env, "DATABASE_URL": settings.database_url},
        ),
    ]  # fmt: skip
    if settings.telegram_bot_token is not None and settings.telegram_webhook_secret is None:
        # A Telegram bot token without a webhook secret: long polling (development).
        children.append(
            Child(
                "telegram",
                [sys.executable, "-m", "bot.cli", "telegram", "poll"],
                None,
                {
                    **env,
                    "RASA_URL": f"http://127.0.0.1:{rasa_port}",
                    "DATABASE_URL": settings.database_url,
                },
            )
        )
    return children


def run(
    settings: Settings, *, port: int = 8000, rasa_port: int = 5005, action_port: int = 5055
) -> int:
    ensure_model(settings, action_port=action_port)
    children = build_children(settings, port=port, rasa_port=rasa_port, action_port=action_port)

    def _interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, and SIGINT/SIGTERM from a supervisor (also when started in the background,
    # where a shell would have the process ignore SIGINT).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        for child in children:
            say(f"starting {child.name} (log: var/log/{child.name}.log)")
            child.start()
        dead = wait_healthy(children, timeout=300)
        if dead is not None:
            code = dead.exit_code()
            say(f"{dead.name} exited with code {code} while starting; see var/log/{dead.name}.log")
            return 1
        say(f"the assistant is running: chat in a browser at http://127.0.0.1:{port}/app/")
        say(f"or in this terminal: make chat; the API: http://127.0.0.1:{port}/docs")
        say("press Ctrl-C to stop everything")
        while True:
            for child in children:
                code = child.exit_code()
                if code is not None:
                    say(f"{child.name} exited with code {code}; see var/log/{child.name}.log")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping…")
        return 0
    finally:
        stop_all(children)
        say("all stopped")
