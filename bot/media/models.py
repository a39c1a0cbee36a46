"""Images citizens attach to their reports and evidence staff add to them."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, str_enum, utcnow


class MediaKind(StrEnum):
    PHOTO = "photo"  # from a citizen, with their report
    EVIDENCE = "evidence"  # from staff, e.g. the repaired street light


def new_media_id() -> str:
    """128 random bits as 32 hex digits: the id is part of the URL and must not be guessable."""
    return secrets.token_hex(16)


class MediaFile(Base):
    __tablename__ = "media_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_media_id)
    # Who uploaded it: the citizen's sender id ("web:<session>", "telegram:<id>") or
    # "staff:<user id>". Only the owner (or staff who may see the report) gets the bytes.
    owner_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[MediaKind] = mapped_column(str_enum(MediaKind))
    # Set when the citizen's report is submitted (or at once for staff evidence).
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))  # image/jpeg, image/png, image/webp
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored (re-encoded) bytes
    # Relative to the media directory: YYYY/MM/<id>.<ext>.
    storage_path: Mapped[str] = mapped_column(String(200))
    # Read from the original's EXIF before it was stripped; offered as the report's place.
    gps_latitude: Mapped[float | None] = mapped_column(Float)
    gps_longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
