"""`hue-s up`'s supervisor (bot.devserver.Supervisor) over small real processes.

The supervisor is driven round by round with ``check(now)``, ``now`` moved on by hand past
each restart delay, so the backoff is tested without waiting for it. The whole assistant
under the supervisor, each process killed in turn, is tests/e2e/test_faults.py.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from bot import devserver
from bot.devserver import Child, LaunchError, Supervisor

RUNS = [sys.executable, "-c", "import time; time.sleep(60)"]
DIES = [sys.executable, "-c", "import sys; sys.exit(3)"]


@pytest.fixture(autouse=True)
def log_dir(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(devserver, "LOG_DIR", tmp_path)
    yield


def said(tmp_path) -> str:
    return (tmp_path / "supervisor.log").read_text(encoding="utf-8")


def dead(child: Child) -> None:
    """Wait until the child's process has exited."""
    assert child.process is not None
    child.process.wait(timeout=10)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    made = [Child("steady", RUNS, None), Child("crashy", DIES, None)]
    for child in made:
        child.start()
    yield made
    devserver.stop_all(made)


def test_a_dead_process_is_restarted_alone_with_a_doubling_delay(children, tmp_path):
    steady, crashy = children
    supervisor = Supervisor(children)
    supervisor.launched = True  # the assistant has been up: a crashing child is retried
    now = time.monotonic()
    delays = []
    for _ in range(8):
        dead(crashy)
        supervisor.check(now)
        assert crashy.restart_at is not None
        delays.append(round(crashy.restart_at - now))
        now = crashy.restart_at
        supervisor.check(now)  # started again
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    assert crashy.starts == 9 and steady.starts == 1
    assert steady.exit_code() is None
    log = said(tmp_path)
    assert "crashy exited with code 3; restarting it in 1 s (see var/log/crashy.log)" in log
    assert "restarting crashy (restart #1)" in log and "restarting crashy (restart #8)" in log
    assert "crashy keeps dying before it is ready (5 times in a row); still retrying" in log
    assert "steady" not in log
    assert (tmp_path / "crashy.log").read_text().count("=== hue-s up: start #") == 9


def test_the_delay_starts_again_after_a_process_stayed_healthy(tmp_path):
    child = Child("flaky", RUNS, None)
    child.start()
    try:
        supervisor = Supervisor([child])
        child.delay = 16.0  # it died a few times before
        now = time.monotonic() + devserver.NO_PORT_READY_SECONDS
        supervisor.check(now)
        assert child.healthy_at == now
        supervisor.check(now + devserver.STABLE_SECONDS)
        assert child.delay == devserver.FIRST_DELAY
        assert child.process is not None
        child.process.kill()
        dead(child)
        supervisor.check(now + devserver.STABLE_SECONDS + 1)
        assert "flaky exited with signal SIGKILL; restarting it in 1 s" in said(tmp_path)
    finally:
        devserver.stop_all([child])


def test_a_process_that_keeps_dying_while_launching_stops_the_launch(children, tmp_path):
    _, crashy = children
    supervisor = Supervisor(children)
    now = time.monotonic()
    with pytest.raises(LaunchError, match=r"crashy died 5 times in a row while starting"):
        for _ in range(devserver.LAUNCH_FAILURES):
            dead(crashy)
            supervisor.check(now)
            now = crashy.restart_at or now
            supervisor.check(now)


def test_a_process_back_after_dying_is_said_to_be_back(tmp_path):
    child = Child("worker", DIES, None)
    child.start()
    try:
        supervisor = Supervisor([child])
        supervisor.launched = True
        dead(child)
        now = time.monotonic()
        supervisor.check(now)
        child.cmd = RUNS  # whatever made it die has gone away
        supervisor.check(now + 1)
        supervisor.check(now + 1 + devserver.NO_PORT_READY_SECONDS + 1)
        assert child.healthy_at is not None
        assert "worker is back (" in said(tmp_path)
    finally:
        devserver.stop_all([child])


def test_watch_runs_until_told_to_stop(children):
    import threading

    steady, crashy = children
    crashy.cmd = RUNS
    stop = threading.Event()
    ready = threading.Event()
    thread = threading.Thread(
        target=Supervisor(children).watch,
        args=(stop,),
        kwargs={"on_ready": ready.set, "interval": 0.05},
    )
    thread.start()
    assert ready.wait(15)  # both up at once (the crashy one after its restart)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert steady.exit_code() is None and crashy.exit_code() is None
