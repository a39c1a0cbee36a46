"""Settings refuse placeholder secrets in production; migrations go up and down."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect

from bot.db import make_engine
from bot.settings import Environment, Settings
from tests.service.conftest import downgrade, migrate


def test_production_refuses_the_placeholder_secret():
    with pytest.raises(ValidationError, match="GATEWAY_SECRET"):
        Settings(environment=Environment.PRODUCTION, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(environment=Environment.PRODUCTION, gateway_secret="short", _env_file=None)  # type: ignore[arg-type,call-arg]


def test_production_refuses_placeholder_signing_and_token_secrets():
    real = {
        "gateway_secret": "x" * 32,
        "webhook_signing_secret": "w" * 32,
        "staff_token_secret": "y" * 32,
        "internal_api_token": "i" * 16,
    }
    for name, short in (
        ("webhook_signing_secret", "w" * 31),
        ("staff_token_secret", "y" * 31),
        ("internal_api_token", "i" * 15),
        ("internal_api_token", "dev-internal-token-change-me"),
    ):
        with pytest.raises(ValidationError, match=name.upper()):
            Settings(environment=Environment.PRODUCTION, **{**real, name: short}, _env_file=None)  # type: ignore[arg-type]
    Settings(environment=Environment.PRODUCTION, **real, _env_file=None)  # type: ignore[arg-type]


def test_production_accepts_a_real_secret_and_development_the_default():
    Settings(
        environment=Environment.PRODUCTION,
        gateway_secret="x" * 32,  # type: ignore[arg-type]
        staff_token_secret="y" * 32,  # type: ignore[arg-type]
        webhook_signing_secret="w" * 32,  # type: ignore[arg-type]
        internal_api_token="i" * 32,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    assert Settings(_env_file=None).environment is Environment.DEVELOPMENT  # type: ignore[call-arg]


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "500")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.max_message_chars == 500
    assert not settings.is_sqlite


def test_migrations_downgrade_to_base_and_upgrade_again(database_url: str):
    engine = make_engine(database_url)
    assert "messages" in inspect(engine).get_table_names()
    downgrade(database_url, "base")
    assert "messages" not in inspect(engine).get_table_names()
    migrate(database_url)
    assert "messages" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_migrated_schema_matches_the_models(database_url: str):
    """No model change without its migration (the full-text index tables are the DB's own)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import bot.models  # noqa: F401 - registers every table
    from bot.db import Base

    def include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
        return not (type_ == "table" and name and name.startswith("procedures_fts"))

    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    # PostgreSQL's full-text column and its index are the database's own, not the models'.
    diff = [
        d
        for d in diff
        if not (d[0] == "remove_index" and d[1].name == "ix_procedures_search")
        and not (d[0] == "remove_column" and d[3].name == "search_vector")
    ]
    assert diff == []


def test_commands_on_a_database_not_migrated_say_what_to_run(tmp_path, monkeypatch):
    from bot import cli

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(SystemExit, match="hue-s migrate"):
        cli.main(["procedures", "search", "khai sinh"])
    assert cli.database_is_current(f"sqlite:///{tmp_path / 'new.db'}") is False


def test_env_example_lists_every_setting():
    import re

    from bot.settings import ROOT

    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert {name.upper() for name in Settings.model_fields} <= listed
