"""Run the whole assistant on one machine: Rasa, the action server and the service.

Used by `make run` (`hue-s up`): migrates the database, trains the model when it is missing
or stale, starts the processes (action server, Rasa, service, outbox worker, and the Telegram
poller when configured), waits until each is healthy, and stops them all on Ctrl-C or SIGTERM.

It supervises them: a process that dies is started again, alone, while the others keep
serving — after 1 s, then 2, 4… up to 60 s if it keeps dying, back to 1 s once it has stayed
up for ``STABLE_SECONDS``. Each death and restart is said by name on the console and in
var/log/supervisor.log. While the assistant is starting, a process that dies
``LAUNCH_FAILURES`` times in a row before becoming healthy stops everything (a configuration
error: port taken, bad model…); once it has been up, a process that keeps dying is retried
every 60 s for ever, and said so (the cause may go away: a database back, a disk freed).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

import httpx

from bot import engine, training
from bot.settings import ROOT, Settings

LOG_DIR = ROOT / "var" / "log"
FIRST_DELAY = 1.0  # seconds before the first restart of a dead process
MAX_DELAY = 60.0  # …doubling up to this
STABLE_SECONDS = 30.0  # healthy this long: its next restart waits FIRST_DELAY again
LAUNCH_FAILURES = 5  # deaths in a row before ever being healthy that stop a launch
NO_PORT_READY_SECONDS = 2.0  # a worker with no health URL is ready once up this long


@dataclass
class Child:
    name: str
    cmd: list[str]
    health_url: str | None  # None: ready once started (a worker with no HTTP port)
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # Supervision (monotonic times):
    starts: int = 0
    started_at: float = 0.0
    healthy_at: float | None = None  # since the last start
    restart_at: float | None = None  # dead, to be started again then
    delay: float = FIRST_DELAY
    failures_in_a_row: int = 0  # deaths before becoming healthy
    died_at: float | None = None

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with (LOG_DIR / f"{self.name}.log").open("a", encoding="utf-8") as note:
            note.write(f"\n=== hue-s up: start #{self.starts} at {_stamp()} ===\n")
        log = (LOG_DIR / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()  # the child has its own copy
        self.started_at = time.monotonic()
        self.healthy_at = None
        self.restart_at = None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()


def _stamp() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def say(message: str) -> None:
    """Tell the console and var/log/supervisor.log."""
    print(f"==> {message}", flush=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / "supervisor.log").open("a", encoding="utf-8") as log:
        log.write(f"{_stamp()} {message}\n")


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


def ensure_model(settings: Settings, *, action_port: int) -> None:
    """Train the model when it is missing or stale (bot.training says what and why)."""
    if engine.model_is_fresh():
        say(f"model up to date: models/{engine.latest_model().name}")  # type: ignore[union-attr]
        return
    training.train_model(engine.engine_env(settings, action_port=action_port), say=say)


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
                    child.healthy_at = time.monotonic()
                    pending.remove(child)
                    continue
                if _answers(http, child.health_url):
                    say(f"{child.name} is ready")
                    child.healthy_at = time.monotonic()
                    pending.remove(child)
            time.sleep(0.5)
    if pending:
        raise TimeoutError("not ready in time: " + ", ".join(c.name for c in pending))
    return None


def _answers(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url).is_success
    except httpx.HTTPError:
        return False


class LaunchError(RuntimeError):
    """A process kept dying before the assistant was ever up."""


class Supervisor:
    """Keeps the children running: a dead one is started again after a growing delay."""

    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.launched = False  # every child has been healthy at once
        self._http = httpx.Client(timeout=1)

    def watch(
        self,
        stop: threading.Event | None = None,
        *,
        on_ready: Callable[[], None] | None = None,
        launch_timeout: float = 300,
        interval: float = 0.5,
    ) -> None:
        """Supervise until ``stop`` is set (or for ever); raises LaunchError while launching."""
        deadline = time.monotonic() + launch_timeout
        try:
            while stop is None or not stop.is_set():
                now = time.monotonic()
                self.check(now)
                if not self.launched:
                    if all(c.healthy_at is not None for c in self.children):
                        self.launched = True
                        if on_ready is not None:
                            on_ready()
                    elif now > deadline:
                        late = [c.name for c in self.children if c.healthy_at is None]
                        raise LaunchError("not ready in time: " + ", ".join(late))
                if stop is None:
                    time.sleep(interval)
                else:
                    stop.wait(interval)
        finally:
            self._http.close()

    def check(self, now: float) -> None:
        """One round: notice deaths, start what is due, see who became healthy."""
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    say(f"restarting {child.name} (restart #{child.starts})")
                    child.start()
                continue
            code = child.exit_code()
            if code is None:
                self._see_health(child, now)
            elif child.process is not None:
                self._died(child, code, now)

    def _see_health(self, child: Child, now: float) -> None:
        if child.healthy_at is None:
            ready = (
                now - child.started_at >= NO_PORT_READY_SECONDS
                if child.health_url is None
                else _answers(self._http, child.health_url)
            )
            if ready:
                child.healthy_at = now
                if child.died_at is not None:
                    say(f"{child.name} is back ({now - child.died_at:.0f} s after it died)")
                    child.died_at = None
        elif now - child.healthy_at >= STABLE_SECONDS:
            child.delay, child.failures_in_a_row = FIRST_DELAY, 0

    def _died(self, child: Child, code: int, now: float) -> None:
        if child.healthy_at is None:
            child.failures_in_a_row += 1
        else:
            child.failures_in_a_row = 0
        if child.failures_in_a_row >= LAUNCH_FAILURES and not self.launched:
            raise LaunchError(
                f"{child.name} died {child.failures_in_a_row} times in a row while starting "
                f"({describe_exit(code)}); see var/log/{child.name}.log"
            )
        if child.died_at is None:  # the first death of a run of them: when it went down
            child.died_at = now
        child.restart_at = now + child.delay
        say(
            f"{child.name} exited with {describe_exit(code)}; restarting it in "
            f"{child.delay:.0f} s (see var/log/{child.name}.log)"
        )
        if child.failures_in_a_row >= LAUNCH_FAILURES:
            say(
                f"{child.name} keeps dying before it is ready ({child.failures_in_a_row} times "
                f"in a row); still retrying, every {MAX_DELAY:.0f} s at most"
            )
        child.delay = min(child.delay * 2, MAX_DELAY)
        child.process = None


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


def one_address_for_many_citizens(children: list[Child]) -> None:
    """Lift the web chat's per-address limit on the service child: for end-to-end tests and
    load benchmarks, where every simulated citizen speaks from 127.0.0.1 (the per-session
    limit stays)."""
    for child in children:
        if child.name == "service":
            child.env = {**(child.env or {}), "WEB_MESSAGES_PER_MINUTE_PER_ADDRESS": "1000000"}


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
            "outbox",  # also replays the messages the assistant could not answer
            [sys.executable, "-m", "bot.cli", "outbox", "run"],
            None,
            {
                **env,
                "RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "DATABASE_URL": settings.database_url,
            },
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
    try:
        ensure_model(settings, action_port=action_port)
    except training.TrainingFailed:
        say("could not train the model: the assistant is not started")
        return 1
    children = build_children(settings, port=port, rasa_port=rasa_port, action_port=action_port)

    def _interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def _ready() -> None:
        say(f"the assistant is running: chat in a browser at http://127.0.0.1:{port}/app/")
        say(f"or in this terminal: make chat; the API: http://127.0.0.1:{port}/docs")
        say("a process that dies is restarted; press Ctrl-C to stop everything")

    # Ctrl-C, and SIGINT/SIGTERM from a supervisor (also when started in the background,
    # where a shell would have the process ignore SIGINT).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        for child in children:
            say(f"starting {child.name} (log: var/log/{child.name}.log)")
            child.start()
        Supervisor(children).watch(on_ready=_ready)
        return 0  # not reached: watch() returns only when told to stop
    except LaunchError as exc:
        say(f"could not start the assistant: {exc}")
        return 1
    except KeyboardInterrupt:
        say("stopping…")
        return 0
    finally:
        stop_all(children)
        say("all stopped")
