"""Engine tests run in .venv-engine (Python 3.10, Rasa 3.6): components, channel, actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def model_storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def resource() -> Resource:
    return Resource("component")
