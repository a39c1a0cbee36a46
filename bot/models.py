"""Every table of the service, imported in one place for Alembic and tests."""

from bot.conversations.models import Message

__all__ = ["Message"]
