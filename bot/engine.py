"""Commands of the Rasa engine environment (.venv-engine), as the service runs them.

The engine is a separate Python 3.10 environment; the service only starts its processes
and talks to them over HTTP.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bot.settings import ROOT, Settings

ENGINE_BIN = ROOT / ".venv-engine" / "bin"
MODELS_DIR = ROOT / "models"
# Rasa's training data. data/ also holds the catalogue (procedures, agencies, routing…),
# which Rasa must not read as training data, so the folders are always named.
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]
# What a trained model depends on: a change to any of these makes the model stale.
MODEL_INPUTS = [
    "config.yml",
    "domain.yml",
    *TRAINING_DATA,
    "hue_rasa",
    "vitext",
    "requirements/engine.lock",
]
# …except files in those folders that a trained model does not contain: the gateway channel
# is loaded by `rasa run` from credentials.yml, so changing it needs a restart, not a retrain.
NOT_MODEL_INPUTS = {"hue_rasa/channel.py"}
FINGERPRINT_FILE = MODELS_DIR / "latest.fingerprint"


def _input_files(root: Path) -> list[Path]:
    files = []
    for name in MODEL_INPUTS:
        path = root / name
        for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
            if (
                file.suffix in {".pyc"}
                or "__pycache__" in file.parts
                or file.relative_to(root).as_posix() in NOT_MODEL_INPUTS
            ):
                continue
            files.append(file)
    return files


def training_fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for file in _input_files(root):
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def input_digests(root: Path = ROOT) -> dict[str, str]:
    """The digest of each file a trained model depends on, by path: what changed, file by file."""
    return {
        file.relative_to(root).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in _input_files(root)
    }


def latest_model() -> Path | None:
    models = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def model_is_fresh() -> bool:
    model = latest_model()
    return (
        model is not None
        and FINGERPRINT_FILE.exists()
        and FINGERPRINT_FILE.read_text().strip() == f"{training_fingerprint()} {model.name}"
    )


def record_trained_model(fingerprint: str) -> None:
    """Record the inputs' fingerprint taken BEFORE training (files may change meanwhile)."""
    model = latest_model()
    if model is None:
        raise RuntimeError("rasa train finished without writing a model")
    FINGERPRINT_FILE.write_text(f"{fingerprint} {model.name}\n")


def engine_env(settings: Settings, *, action_port: int, service_port: int = 8000) -> dict[str, str]:
    """Environment for Rasa processes: endpoints.yml, credentials.yml and actions read these."""
    tracker_url = settings.tracker_store_url
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_STORE_URL": tracker_url,
        "TRACKER_STORE_DIALECT": tracker_url.split(":", 1)[0].split("+", 1)[0],
        "GATEWAY_SECRET": settings.gateway_secret.get_secret_value(),
        # The action server reads procedures and applications from the service's API.
        "SERVICE_URL": f"http://127.0.0.1:{service_port}",
        # …and files reports through its internal API with this key.
        "INTERNAL_API_TOKEN": settings.internal_api_token.get_secret_value(),
        "SANIC_HOST": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def rasa_cmd(*args: str) -> list[str]:
    return [str(ENGINE_BIN / "rasa"), *args]
