"""The outbox worker's daily housekeeping, run by the real worker process (SQLite and
PostgreSQL): abandoned photos and expired mini-app sessions go, nothing else does."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.channels.miniapp.identity import Citizen
from bot.channels.miniapp.models import MiniAppSession
from bot.channels.miniapp.sessions import open_session
from bot.db import make_engine, make_sessionmaker, utcnow
from bot.media.models import MediaFile, MediaKind
from bot.media.storage import store_image
from tests.service.media.images import phone_jpeg
from tests.service.outbox.test_worker_crash import worker

CITIZEN = Citizen(sender_id="web:" + "h" * 32, channel="web")


def test_the_worker_forgets_abandoned_photos_and_expired_sessions(database_url, tmp_path):
    media_dir = tmp_path / "media"
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        old, recent = (
            store_image(session, phone_jpeg(), owner_id=CITIZEN.sender_id, kind=MediaKind.PHOTO,
                        media_dir=media_dir, max_bytes=10**7)
            for _ in range(2)
        )  # fmt: skip
        old.created_at = utcnow() - timedelta(days=8)
        open_session(session, CITIZEN, hours=1, now=utcnow() - timedelta(hours=2))  # expired
        _, live = open_session(session, CITIZEN, hours=12)
        session.commit()
        old_id, recent_id, live_hash = old.id, recent.id, live.token_hash
    run = worker(database_url, "--once", env={"MEDIA_DIR": str(media_dir)})
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 0, errors.decode()[-2000:]
    with factory() as session:
        assert set(session.scalars(select(MediaFile.id))) == {recent_id}
        assert set(session.scalars(select(MiniAppSession.token_hash))) == {live_hash}
    files = [p for p in media_dir.rglob("*") if p.is_file()]
    assert len(files) == 1 and old_id not in files[0].name
