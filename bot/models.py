"""Every table of the service, imported in one place for Alembic and tests."""

from bot.apiclients.models import ApiClient
from bot.applications.models import Application
from bot.channels.miniapp.models import MiniAppSession as MiniAppSession
from bot.channels.miniapp.models import UsedLaunchToken as UsedLaunchToken
from bot.channels.telegram.models import TelegramButtonPayload as TelegramButtonPayload
from bot.channels.telegram.models import TelegramUpdate as TelegramUpdate
from bot.conversations.models import Message
from bot.media.models import MediaFile as MediaFile
from bot.outbox.models import OutboxMessage
from bot.procedures.models import Procedure
from bot.reports.models import DuplicateOffer as DuplicateOffer
from bot.reports.models import Report, ReportFollower, ReportUpdate
from bot.staff.audit import StaffAction as StaffAction
from bot.staff.models import StaffUser

__all__ = [
    "ApiClient",
    "Application",
    "Message",
    "OutboxMessage",
    "Procedure",
    "Report",
    "ReportFollower",
    "ReportUpdate",
    "StaffUser",
]
