"""`make train`'s output (bot.training, bot.trainlog): what matters shown, the rest logged.

A stand-in for `rasa train` prints what the real one prints (TensorFlow and deprecation
noise, Rasa's coloured warnings, its log lines, the epoch bar redrawn with carriage
returns, the saved model in green), so no model is trained here.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot import engine, training, trainlog

FAKE_RASA = textwrap.dedent(
    r"""
    import pathlib, sys
    Y, G, END = "\x1b[93m", "\x1b[92m", "\x1b[0m"
    IO = "/x/site-packages/rasa/shared/utils/io.py:100: UserWarning: "
    err = sys.stderr

    def log(logger, message):
        print(f"2026-12-07 04:41:48 INFO     {logger}  - {message}", file=err)

    def hook(message):
        log("rasa.engine.training.hooks", message)

    print("2026-12-07 04:29:57.05: I tensorflow/tsl/cuda/cudart_stub.cc:28] No cuda", file=err)
    print("/x/keras/utils/data_utils.py:206: DeprecationWarning: invalid escape", file=err)
    print("  from jax import xla_computation as _xla_computation", file=err)
    log("rasa.cli.train", "Started validating domain and training data...")
    print(Y + IO + "The utterance 'utter_a' is not used in any story or rule.", file=err)
    print(END + Y + IO + "The utterance 'utter_b' is not used in any story or rule.", file=err)
    print(END + Y + IO + "Misaligned entity annotation in message 'hồ sơ cấp sổ đỏ' with intent "
          "'ask_procedure'. Make sure the start and end values of entities match.", file=err)
    print("  More info at https://rasa.com/docs/rasa/training-data-format", file=err)
    print(END, end="", file=err)
    print("Processed rules:   0%|   | 0/43 [00:00<?]\rProcessed rules: 100%|█| 43/43", file=err)
    hook("Starting to train component 'DIETClassifier'.")
    for epoch in (1, 2):
        bar = f"\rEpochs:  50%|█    | {epoch}/2 [00:01<00:01,  1.2s/it"
        err.write(bar + "]")
        err.write(bar + f", t_loss=3.9, i_acc=0.99{epoch}, e_f1=0.9{epoch}]")
    print("", file=err)
    hook("Finished training component 'DIETClassifier'.")
    hook("Restored component 'TEDPolicy' from cache.")
    if sys.argv[2] == "fail":
        print("Traceback (most recent call last):", file=err)
        print('  File "/x/rasa/model_training.py", line 1, in train', file=err)
        print("ValueError: the domain has no intents", file=err)
        sys.exit(1)
    model = pathlib.Path(sys.argv[1]) / "20261207-044159-test.tar.gz"
    model.write_bytes(b"")
    print(G + f"Your Rasa model is trained and saved at '{model}'." + END)
    """
)


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(engine, "MODELS_DIR", models)
    monkeypatch.setattr(engine, "FINGERPRINT_FILE", models / "latest.fingerprint")
    monkeypatch.setattr(training, "INPUTS_FILE", models / "latest.inputs.json")
    monkeypatch.setattr(engine, "training_fingerprint", lambda: "f1")
    monkeypatch.setattr(engine, "input_digests", lambda: {"data/nlu/a.yml": "1", "config.yml": "2"})
    return models


def train(
    tmp_path: Path, models: Path, outcome: str = "ok"
) -> tuple[list[str], str, str, training.TrainingFailed | None]:
    """Run the stand-in: the headlines (say), the console, the log and the failure if any."""
    script = tmp_path / "fake_rasa.py"
    script.write_text(FAKE_RASA, encoding="utf-8")
    said: list[str] = []
    console = io.StringIO()
    log = tmp_path / "train.log"
    failure = None
    try:
        training.train_model(
            {"PATH": "/usr/bin:/bin"},
            say=said.append,
            console=trainlog.Console(console),
            cmd=[sys.executable, str(script), str(models), outcome],
            log_path=log,
        )
    except training.TrainingFailed as exc:
        failure = exc
    return said, console.getvalue(), log.read_text(encoding="utf-8"), failure


def test_the_console_says_what_is_trained_and_why_and_where_the_model_went(tmp_path, models):
    said, shown, _, _ = train(tmp_path, models)
    assert said[0] == "training the model: there is no model yet"
    assert said[-1].startswith("model trained in ")
    assert "models/20261207-044159-test.tar.gz" in said[-1]
    assert f"full log: {tmp_path / 'train.log'}" in said[-1]
    assert (
        "    trained DIETClassifier (intents and procedure names), "
        in shown  # …how long, then how it ended:
    )
    assert "2/2 epochs, on its own training data: intents 99.2%, entity F1 0.92" in shown
    assert "1 unchanged components were reused from Rasa's cache" in shown


def test_a_data_warning_is_shown_and_expected_ones_are_counted(tmp_path, models):
    _, shown, _, _ = train(tmp_path, models)
    assert (
        "    ! Misaligned entity annotation in message 'hồ sơ cấp sổ đỏ' with intent "
        "'ask_procedure'. Make sure the start and end values of entities match."
    ) in shown.splitlines()
    assert "expected, not shown: 2 × responses that only actions utter" in shown
    assert "utter_a" not in shown


def test_library_noise_and_progress_bars_stay_out_of_the_console_but_in_the_log(tmp_path, models):
    _, shown, log, _ = train(tmp_path, models)
    for noise in ("tensorflow", "DeprecationWarning", "xla_computation", "Epochs", "Processed"):
        assert noise not in shown
        assert noise in log or noise == "Epochs"
    # the epoch bar becomes one line per epoch with its final metrics; other bars their end
    assert "epoch 1/2 t_loss=3.9 i_acc=0.991 e_f1=0.91" in log.splitlines()
    assert "epoch 2/2 t_loss=3.9 i_acc=0.992 e_f1=0.92" in log.splitlines()
    assert "Processed rules: 100%|█| 43/43" in log.splitlines()
    assert "Processed rules:   0%" not in log
    assert "\x1b" not in log


def test_a_failed_training_shows_the_error_and_the_end_of_the_log(tmp_path, models):
    said, shown, _, failure = train(tmp_path, models, outcome="fail")
    assert isinstance(failure, subprocess.CalledProcessError)  # what callers caught before
    assert "Traceback (most recent call last):" in shown
    assert "ValueError: the domain has no intents" in shown
    assert f"rasa train failed (exit code 1); the end of {tmp_path / 'train.log'}:" in shown
    assert "    | ValueError: the domain has no intents" in shown
    assert not said[-1].startswith("model trained")
    assert not engine.FINGERPRINT_FILE.exists()


def test_the_next_training_says_which_inputs_changed(tmp_path, models, monkeypatch):
    train(tmp_path, models)
    monkeypatch.setattr(
        engine, "input_digests", lambda: {"data/nlu/a.yml": "changed", "hue_rasa/new.py": "3"}
    )
    said, _, _, _ = train(tmp_path, models)
    assert said[0] == (
        "training the model: changed since models/20261207-044159-test.tar.gz: "
        "config.yml, data/nlu/a.yml, hue_rasa/new.py"
    )


def test_a_terminal_sees_the_epochs_on_one_line_that_the_next_line_replaces() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    console = trainlog.Console(terminal)
    console.progress("    training DIETClassifier: epoch 1/40")
    console.progress("    training DIETClassifier: epoch 2/40")
    console.show("    trained DIETClassifier")
    assert terminal.getvalue() == (
        "\r\x1b[K    training DIETClassifier: epoch 1/40"
        "\r\x1b[K    training DIETClassifier: epoch 2/40"
        "\r\x1b[K"
        "    trained DIETClassifier\n"
    )
