"""Train the Rasa model when asked (`make train`, `hue-s up`), saying what matters.

The console says why the model is trained (which of its inputs changed since the last one),
each component as it is trained, the warnings about the training data that need action,
any error, how long it took and where the model went (bot.trainlog reads Rasa's output).
var/log/train.log keeps everything `rasa train` printed. What each training was trained on
and how long it took is kept in models/latest.inputs.json for the next one to compare.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import engine
from bot.settings import ROOT
from bot.trainlog import Console, TrainingOutput, duration

LOG_DIR = ROOT / "var" / "log"
INPUTS_FILE = engine.MODELS_DIR / "latest.inputs.json"
# Lines of the log shown when training fails, from its end.
FAILURE_TAIL = 30


class TrainingFailed(subprocess.CalledProcessError):
    """`rasa train` failed; the end of its log has been shown."""


def _record() -> dict[str, object]:
    """What the last training recorded: its model, how long it took, the inputs' digests."""
    try:
        record = json.loads(INPUTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def changed_inputs(current: dict[str, str], model: Path) -> list[str] | None:
    """The model inputs added, changed or removed since ``model`` was trained (None: unknown)."""
    record = _record()
    before = record.get("files") if record.get("model") == model.name else None
    if not isinstance(before, dict):
        return None
    return sorted(
        path for path in current.keys() | before.keys() if current.get(path) != before.get(path)
    )


def last_duration() -> float | None:
    seconds = _record().get("seconds")
    return float(seconds) if isinstance(seconds, int | float) else None


def why(current: dict[str, str]) -> str:
    """Why the model is trained, in a few words."""
    model = engine.latest_model()
    if model is None:
        return "there is no model yet"
    changed = changed_inputs(current, model)
    if not changed:
        return f"the data, config or components changed since models/{model.name}"
    shown = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
    return f"changed since models/{model.name}: {shown}"


def run_rasa_train(
    cmd: Sequence[str], *, env: dict[str, str], log_path: Path, console: Console
) -> TrainingOutput:
    """Run ``cmd``, its output to ``log_path`` and read by a TrainingOutput."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        output = TrainingOutput(
            show=console.show,
            log=lambda text: print(text, file=log, flush=True),
            progress=console.progress,
        )
        process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            # unbuffered: Rasa's printed lines and its log lines keep their order
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while chunk := os.read(process.stdout.fileno(), 65536):
            pending += decoder.decode(chunk)
            *lines, pending = re.split(r"\r\n|\r|\n", pending)
            for line in lines:
                output.line(line)
        pending += decoder.decode(b"", final=True)
        if pending:
            output.line(pending)
        code = process.wait()
        console.progress("")
    if code != 0:
        tail = log_path.read_text(encoding="utf-8").splitlines()[-FAILURE_TAIL:]
        console.show(f"    rasa train failed ({_exit(code)}); the end of {_shown(log_path)}:")
        for line in tail:
            console.show(f"    | {line}")
        raise TrainingFailed(code, list(cmd))
    return output


def _exit(code: int) -> str:
    return f"exit code {code}" if code >= 0 else f"signal {-code}"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def train_model(
    env: dict[str, str],
    *,
    say: Callable[[str], None],
    console: Console | None = None,
    cmd: Sequence[str] | None = None,
    log_path: Path | None = None,
) -> Path:
    """Train the model with `rasa train`, record what it was trained on, return its path."""
    console = console or Console()
    log_path = log_path or LOG_DIR / "train.log"
    current = engine.input_digests()
    fingerprint = engine.training_fingerprint()
    last = last_duration()
    say(f"training the model: {why(current)}")
    console.show(
        "    intents and entities from data/nlu, the dialogue from data/rules and data/stories; "
        + (f"last time it took {duration(last)}" if last else "this takes a few minutes")
        + f"; full log: {_shown(log_path)}"
    )
    if cmd is None:
        cmd = engine.rasa_cmd(
            "train", "--data", *engine.TRAINING_DATA, "--out", str(engine.MODELS_DIR)
        )
    started = time.monotonic()
    output = run_rasa_train(cmd, env=env, log_path=log_path, console=console)
    seconds = time.monotonic() - started
    engine.record_trained_model(fingerprint)
    model = engine.latest_model()
    assert model is not None  # record_trained_model raised otherwise
    INPUTS_FILE.write_text(
        json.dumps({"model": model.name, "seconds": round(seconds), "files": current}, indent=1),
        encoding="utf-8",
    )
    if output.restored:
        console.show(f"    {output.restored} unchanged components were reused from Rasa's cache")
    for reason, count in output.expected.items():
        console.show(f"    expected, not shown: {count} × {reason}")
    say(f"model trained in {duration(seconds)}: models/{model.name} (full log: {_shown(log_path)})")
    return model


def main() -> int:
    """`make train`: train the model if the data, config or components changed."""
    # Imported by name: run as `python -m bot.training`, this module is __main__, not the
    # bot.training whose TrainingFailed the dev server raises.
    from bot import training
    from bot.devserver import ensure_model
    from bot.settings import get_settings

    try:
        ensure_model(get_settings(), action_port=5055)
    except training.TrainingFailed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
