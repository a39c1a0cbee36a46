"""Cleaned images on disk (media_dir/YYYY/MM/<id>.<ext>) and their rows in the database.

Like bot/reports/service.py, every function that changes something works in the caller's
session and commits what it did. A file is written (atomically: a temporary file, then
os.replace) before its row is committed; if the commit fails the file is removed again, so a
row never points to a missing file and an error leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.media.images import inspect_and_clean
from bot.media.models import MediaFile, MediaKind, new_media_id

MEDIA_ID = re.compile(r"[0-9a-f]{32}")


def is_media_id(value: str) -> bool:
    return MEDIA_ID.fullmatch(value) is not None


def store_image(
    session: Session,
    data: bytes,
    *,
    owner_id: str,
    kind: MediaKind,
    media_dir: Path,
    max_bytes: int,
    report_id: int | None = None,
) -> MediaFile:
    """Check and clean ``data``, write it under ``media_dir``, add its row, and commit.

    Raises bot.media.images.MediaError (nothing written) if the image is refused.
    """
    clean = inspect_and_clean(data, max_bytes)
    now = utcnow()
    media = MediaFile(
        id=new_media_id(),
        owner_id=owner_id,
        kind=kind,
        report_id=report_id,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        size_bytes=len(clean.data),
        sha256=hashlib.sha256(clean.data).hexdigest(),
        gps_latitude=clean.gps[0] if clean.gps else None,
        gps_longitude=clean.gps[1] if clean.gps else None,
        created_at=now,
    )
    relative = PurePosixPath(f"{now:%Y}", f"{now:%m}", f"{media.id}.{clean.extension}")
    media.storage_path = str(relative)
    path = media_dir / relative
    _write_atomically(path, clean.data)
    try:
        session.add(media)
        session.commit()
    except BaseException:
        session.rollback()
        path.unlink(missing_ok=True)
        raise
    return media


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def attach_photos(
    session: Session, media_ids: Iterable[str], report_id: int, owner_id: str
) -> list[MediaFile]:
    """Attach the citizen's uploaded photos to their report, and commit.

    Only photos owned by ``owner_id`` that are not attached yet are attached; ids that are
    unknown, malformed, someone else's, staff evidence or already on another report are
    ignored (compare the result with what was asked to tell). Photos already on this report
    are returned again, so a repeated submission gives the same answer. The update is one
    conditional statement, so two concurrent submissions cannot both take the same photo.
    Returns the photos on the report among ``media_ids``, in the order given.
    """
    ids = list(dict.fromkeys(i for i in media_ids if is_media_id(i)))
    if not ids:
        return []
    session.execute(
        update(MediaFile)
        .where(
            MediaFile.id.in_(ids),
            MediaFile.owner_id == owner_id,
            MediaFile.kind == MediaKind.PHOTO,
            MediaFile.report_id.is_(None),
        )
        .values(report_id=report_id)
        .execution_options(synchronize_session="fetch")
    )
    attached = {
        media.id: media
        for media in session.scalars(
            select(MediaFile).where(
                MediaFile.id.in_(ids),
                MediaFile.owner_id == owner_id,
                MediaFile.kind == MediaKind.PHOTO,
                MediaFile.report_id == report_id,
            )
        )
    }
    session.commit()
    return [attached[i] for i in ids if i in attached]


def owned_media(session: Session, media_id: str, owner_id: str) -> MediaFile | None:
    """The media ``owner_id`` uploaded, or None (also when it is someone else's)."""
    if not is_media_id(media_id):
        return None
    media = session.get(MediaFile, media_id)
    return media if media is not None and media.owner_id == owner_id else None


def report_media(session: Session, report_id: int) -> list[MediaFile]:
    """Every photo and piece of evidence on a report, oldest first."""
    query = (
        select(MediaFile)
        .where(MediaFile.report_id == report_id)
        .order_by(MediaFile.created_at, MediaFile.id)
    )
    return list(session.scalars(query))


def media_on_report(session: Session, report_id: int, media_id: str) -> MediaFile | None:
    """The media if it is attached to that report, else None."""
    if not is_media_id(media_id):
        return None
    media = session.get(MediaFile, media_id)
    return media if media is not None and media.report_id == report_id else None


def media_path(media_dir: Path, media: MediaFile) -> Path:
    """Where the bytes are; refuses a stored path that would leave ``media_dir``."""
    root = media_dir.resolve()
    path = (root / media.storage_path).resolve()
    if not path.is_relative_to(root):
        raise FileNotFoundError(media.storage_path)
    return path


def open_media(media_dir: Path, media: MediaFile) -> bytes:
    """The stored bytes (FileNotFoundError if the file is gone)."""
    return media_path(media_dir, media).read_bytes()


def prune_unattached(
    session: Session, media_dir: Path, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Delete photos never attached to a report (abandoned drafts) older than ``older_than``.

    The row is deleted first and committed, then the file: a crash in between leaves an
    orphan file (harmless), never a row pointing to nothing. Returns how many were removed.
    """
    cutoff = (now or utcnow()) - older_than
    stale = session.scalars(
        select(MediaFile).where(MediaFile.report_id.is_(None), MediaFile.created_at < cutoff)
    ).all()
    paths = []
    for media in stale:
        try:
            paths.append(media_path(media_dir, media))
        except FileNotFoundError:
            pass
        session.delete(media)
    session.commit()
    for path in paths:
        path.unlink(missing_ok=True)
    return len(stale)
