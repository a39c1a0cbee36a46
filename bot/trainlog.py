"""Reading `rasa train`'s output: what a person needs to see, and a log without the noise.

`rasa train` writes for Rasa's developers: TensorFlow and absl start-up lines, library
deprecation warnings, progress bars redrawn many times a second. Rasa marks what it means
for people: its warnings are yellow, its errors red, the saved model green, and its own log
lines have a level and say which component starts and finishes training. The rest is
libraries talking, kept in the log only. Errors are never hidden.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

# A warning longer than this is cut on the console (the log has it whole).
WARNING_CHARS = 300

# What each trained component is, for someone who has not read config.yml yet.
COMPONENTS = {
    "CountVectorsFeaturizer": "word and character n-gram counts",
    "LexicalSyntacticFeaturizer": "word shapes",
    "DIETClassifier": "intents and procedure names",
    "OutOfScopeGate": "second opinion on out-of-scope messages",
    "LinearIntentMixer": "intents from the words of data/nlu and the catalogue",
    "GazetteerEntityExtractor": "commune names",
    "EntitySynonymMapper": "entity synonyms",
    "MemoizationPolicy": "the stories, remembered",
    "RulePolicy": "the rules",
    "TEDPolicy": "the next action in a conversation",
}
# Metrics of Rasa's epoch bar, measured on the training data itself.
METRICS = {
    "i_acc": ("intents", "{:.1%}"),
    "e_f1": ("entity F1", "{:.2f}"),
    "acc": ("actions", "{:.1%}"),
}
# Warnings Rasa raises that are expected here, and why: counted on the console, kept in the log.
EXPECTED_WARNINGS = {
    re.compile(r"The utterance '\w+' is not used in any story or rule"): (
        "responses that only actions utter, unseen by Rasa's validator (make validate checks them)"
    ),
    re.compile(r"You have defined training data consisting of lookup tables"): (
        "a lookup table Rasa thinks unused: the commune gazetteer (hue_rasa.extractors) reads it"
    ),
}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_YELLOW, _RED, _GREEN, _RESET = "\x1b[93m", "\x1b[91m", "\x1b[92m", "\x1b[0m"
_LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)? (?P<level>[A-Z]+)\s+\S+\s+- (?P<message>.*)$"
)
_EPOCHS = re.compile(r"^Epochs:.*?\|\s*(?P<done>\d+)/(?P<total>\d+) \[(?P<inside>[^\]]*)\]")
_BAR = re.compile(r"^[^|]*:\s*(?P<percent>\d+)%\|")
_METRIC = re.compile(r"(\w+)=([-\d.e]+)")
_PYTHON_WARNING = re.compile(r"^\S+:\d+: (?:\w+\.)*\w*Warning: (?P<message>.*)$")
_TRAINS = re.compile(r"^(?P<what>Starting to train|Finished training) component '(?P<name>\w+)'")
_RESTORED = re.compile(r"^Restored component '\w+' from cache")
_SAVED = re.compile(r"Your Rasa model is trained and saved at '(?P<path>[^']+)'")
_EXCEPTION = re.compile(r"^(?:\w+\.)*\w*(?:Error|Exception|Exit)\b.*:")


def duration(seconds: float) -> str:
    if seconds < 0.5:
        return "under a second"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@dataclass
class TrainingOutput:
    """Reads `rasa train`'s output line by line: what to log, what to show, what it said."""

    show: Callable[[str], None]
    log: Callable[[str], None]
    # A line that the next one replaces (a terminal shows the epochs as they go).
    progress: Callable[[str], None] = lambda text: None
    clock: Callable[[], float] = time.monotonic
    model_path: str | None = None
    restored: int = 0
    expected: dict[str, int] = field(default_factory=dict)  # expected warnings, by reason
    _colour: str | None = None
    _block: list[str] = field(default_factory=list)
    _in_traceback: bool = False
    _started: dict[str, float] = field(default_factory=dict)
    _training: str = ""
    _epoch: tuple[int, int, dict[str, str]] | None = None  # the last one seen
    _epoch_logged: bool = True

    def line(self, raw: str) -> None:
        """One line of output (a progress bar redraw counts as a line)."""
        while code := _ANSI.match(raw):  # a colour that starts or ends with this line
            self._colour_changes(code.group())
            raw = raw[code.end() :]
        starts = next((c for c in (_YELLOW, _RED, _GREEN) if c in raw), None)
        if starts:
            self._colour_changes(starts)
        text = _ANSI.sub("", raw).rstrip()
        epochs = _EPOCHS.match(text.strip())
        bar = _BAR.match(text.strip())
        if epochs:
            metrics = dict(_METRIC.findall(epochs["inside"]))
            self._epochs(int(epochs["done"]), int(epochs["total"]), metrics)
        elif bar:
            if bar["percent"] == "100":  # other bars: only their end is worth a line
                self.log(text.strip())
        else:
            self._log_epoch()
            self.log(text)
            self._read(text, self._colour)
        if _RESET in raw:
            self._colour_changes(_RESET)

    def _colour_changes(self, code: str) -> None:
        """Rasa's coloured text ends (or another begins): what it said is complete."""
        if code not in (_YELLOW, _RED, _GREEN, _RESET):
            return
        if self._block:
            self._rasa_says(self._block)
            self._block = []
        self._colour = None if code == _RESET else code

    def _read(self, text: str, colour: str | None) -> None:
        if colour in (_YELLOW, _RED):
            self._block.append(text)  # said when the colour ends
            return
        if colour == _GREEN:
            saved = _SAVED.search(text)
            if saved:
                self.model_path = saved["path"]
            return
        if self._traceback(text):
            return
        logged = _LOG_LINE.match(text)
        if logged:
            self._rasa_logs(logged["level"], logged["message"])

    def _traceback(self, text: str) -> bool:
        """Errors are never hidden: a traceback is shown whole, as it comes."""
        if text.startswith("Traceback (most recent call last)"):
            self._in_traceback = True
        if self._in_traceback:
            self.show(text)
            if text and not text.startswith((" ", "Traceback", "During handling", "The above")):
                self._in_traceback = False
            return True
        if _EXCEPTION.match(text):
            self.show(text)
            return True
        return False

    def _rasa_logs(self, level: str, message: str) -> None:
        trains = _TRAINS.match(message)
        if trains and trains["what"] == "Starting to train":
            self._started[trains["name"]] = self.clock()
            self._training = trains["name"]
            self.progress(f"    training {_describe(trains['name'])}…")
        elif trains:
            self._finished(trains["name"])
        elif _RESTORED.match(message):
            self.restored += 1
        elif message.startswith("Started validating"):
            self.progress("    checking the domain and the training data…")
        elif level in {"WARNING", "ERROR", "CRITICAL"}:
            self.show(f"    {level.lower()}: {message}")

    def _finished(self, name: str) -> None:
        started = self._started.pop(name, None)
        took = f", {duration(self.clock() - started)}" if started is not None else ""
        summary = f"    trained {_describe(name)}{took}"
        if self._epoch is not None:
            done, total, metrics = self._epoch
            scores = [
                f"{label} {form.format(float(metrics[key]))}"
                for key, (label, form) in METRICS.items()
                if key in metrics
            ]
            summary += f"; {done}/{total} epochs" + (
                f", on its own training data: {', '.join(scores)}" if scores else ""
            )
            self._epoch = None
        self.show(summary)

    def _epochs(self, done: int, total: int, metrics: dict[str, str]) -> None:
        """A redraw of the epoch bar: each epoch is logged once, with its final metrics."""
        self.progress(f"    training {_describe(self._training)}: epoch {done}/{total}")
        if self._epoch is not None and self._epoch[0] != done:
            self._log_epoch()
        self._epoch = (done, total, metrics)
        self._epoch_logged = False

    def _log_epoch(self) -> None:
        if self._epoch is not None and not self._epoch_logged:
            done, total, metrics = self._epoch
            self._epoch_logged = True
            if done == 0:
                return
            self.log(f"epoch {done}/{total} " + " ".join(f"{k}={v}" for k, v in metrics.items()))

    def _rasa_says(self, block: list[str]) -> None:
        """A warning or error Rasa printed for people (cut if long; whole in the log)."""
        text = " ".join(line.strip() for line in block if line.strip())
        header = _PYTHON_WARNING.match(text)
        message = (header["message"] if header else text).split(" More info at ")[0]
        reason = next(
            (why for known, why in EXPECTED_WARNINGS.items() if known.search(message)), None
        )
        if reason:
            self.expected[reason] = self.expected.get(reason, 0) + 1
            return
        if len(message) > WARNING_CHARS:
            message = message[: WARNING_CHARS - 1] + "…"
        self.show(f"    ! {message}")


def _describe(name: str) -> str:
    what = COMPONENTS.get(name)
    return f"{name} ({what})" if what else name


class Console:
    """Lines for a person; on a terminal also a progress line that the next line replaces."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self._progress = False

    def show(self, text: str) -> None:
        self.progress("")
        print(text, file=self.stream, flush=True)

    def progress(self, text: str) -> None:
        if not self.tty or (not text and not self._progress):
            return
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._progress = bool(text)
