"""Storing images and attaching them to reports, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import make_engine, make_sessionmaker
from bot.media.images import MediaError
from bot.media.models import MediaFile, MediaKind
from bot.media.storage import (
    attach_photos,
    media_on_report,
    media_path,
    open_media,
    owned_media,
    report_media,
    store_image,
)
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.models import Report
from bot.reports.service import ReportDraft, submit_report
from tests.service.media.images import CITADEL, ELF, noise_jpeg, phone_jpeg

MAX = 8 * 1024 * 1024
CITIZEN = "web:" + "a" * 32
OTHER = "web:" + "b" * 32


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"  # beside, not around, the SQLite database


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def new_report(session: Session, reporter: str = CITIZEN) -> Report:
    draft = ReportDraft(
        description="Ổ gà lớn giữa đường Lê Lợi", reporter_id=reporter, channel="web"
    )
    return submit_report(session, draft, default_catalog(), WorkingCalendar())


def files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def store(session: Session, media_dir: Path, data: bytes | None = None, **kw) -> MediaFile:
    kw.setdefault("owner_id", CITIZEN)
    kw.setdefault("kind", MediaKind.PHOTO)
    return store_image(
        session, data or phone_jpeg(), media_dir=media_dir, max_bytes=kw.pop("max_bytes", MAX), **kw
    )


def test_a_stored_image_is_on_disk_under_year_and_month_with_its_row(session, media_dir):
    media = store(session, media_dir)
    session.expire_all()
    row = session.get(MediaFile, media.id)
    assert row is not None
    assert len(row.id) == 32 and int(row.id, 16) >= 0
    created = row.created_at
    assert row.storage_path == f"{created:%Y}/{created:%m}/{row.id}.jpg"
    assert files_in(media_dir) == [media_dir / row.storage_path]  # no temporary file left
    data = open_media(media_dir, row)
    assert (row.size_bytes, row.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (row.gps_latitude, row.gps_longitude) == pytest.approx(CITADEL)
    assert (row.width, row.height, row.content_type) == (20, 40, "image/jpeg")
    assert Image.open(BytesIO(data)).getexif() == {}
    assert row.owner_id == CITIZEN and row.kind is MediaKind.PHOTO and row.report_id is None


def test_ids_are_random(session, media_dir):
    ids = {store(session, media_dir).id for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("data", "code"), [(ELF, "unsupported_type"), (noise_jpeg((400, 400)), "too_large")]
)
def test_a_refused_image_leaves_nothing_behind(session, media_dir, data, code):
    with pytest.raises(MediaError) as caught:
        store(session, media_dir, data, max_bytes=100_000)
    assert caught.value.code == code
    assert files_in(media_dir) == []
    assert session.scalar(select(func.count()).select_from(MediaFile)) == 0


def test_a_failed_commit_removes_the_written_file(session, media_dir):
    with pytest.raises(IntegrityError):
        store(session, media_dir, report_id=999_999)  # no such report
    assert files_in(media_dir) == []
    assert session.scalar(select(func.count()).select_from(MediaFile)) == 0


def test_photos_are_attached_only_for_their_owner_and_only_once(session, media_dir):
    report = new_report(session)
    mine = [store(session, media_dir) for _ in range(2)]
    theirs = store(session, media_dir, owner_id=OTHER)
    evidence = store(session, media_dir, owner_id="staff:1", kind=MediaKind.EVIDENCE)
    asked = [mine[1].id, theirs.id, "not-an-id", mine[0].id, evidence.id, "f" * 32, mine[1].id]
    attached = attach_photos(session, asked, report.id, CITIZEN)
    assert [m.id for m in attached] == [mine[1].id, mine[0].id]
    session.expire_all()
    assert {m.id for m in report_media(session, report.id)} == {mine[0].id, mine[1].id}
    assert session.get(MediaFile, theirs.id).report_id is None  # type: ignore[union-attr]
    # The same submission again gives the same answer; another report cannot take them.
    again = attach_photos(session, [mine[0].id, mine[1].id], report.id, CITIZEN)
    assert {m.id for m in again} == {mine[0].id, mine[1].id}
    other_report = new_report(session)
    assert attach_photos(session, [mine[0].id], other_report.id, CITIZEN) == []
    assert attach_photos(session, [], report.id, CITIZEN) == []


def test_lookups_answer_none_for_someone_else_or_another_report(session, media_dir):
    report, other = new_report(session), new_report(session)
    media = store(session, media_dir)
    attach_photos(session, [media.id], report.id, CITIZEN)
    assert owned_media(session, media.id, CITIZEN) is not None
    assert owned_media(session, media.id, OTHER) is None
    assert owned_media(session, "../../etc/passwd", CITIZEN) is None
    assert media_on_report(session, report.id, media.id) is not None
    assert media_on_report(session, other.id, media.id) is None


def test_a_stored_path_cannot_leave_the_media_directory(tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    media = MediaFile(id="a" * 32, storage_path="../secret.txt")
    with pytest.raises(FileNotFoundError):
        media_path(tmp_path / "media", media)


def test_pruning_removes_only_old_photos_never_attached(session, media_dir):
    from datetime import timedelta

    from bot.db import utcnow
    from bot.media.storage import attach_photos, prune_unattached

    abandoned, attached, recent = (store(session, media_dir) for _ in range(3))
    attach_photos(session, [attached.id], new_report(session).id, CITIZEN)
    later = utcnow() + timedelta(days=8)
    recent.created_at = later - timedelta(days=1)
    session.commit()
    kept = {attached.id, recent.id}
    assert prune_unattached(session, media_dir, older_than=timedelta(days=7), now=later) == 1
    assert {m.id for m in session.scalars(select(MediaFile))} == kept
    assert len(files_in(media_dir)) == 2
    assert abandoned.id not in {p.stem for p in files_in(media_dir)}
