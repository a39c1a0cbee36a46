"""The `hue-s` command: run, migrate, chat, load the catalogue and demo data."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import ROOT, Environment, get_settings

OVERDUE_SWEEP_SECONDS = 60.0  # how often the outbox worker looks for reports past deadline
HOUSEKEEPING_SECONDS = 24 * 3600.0  # …and forgets abandoned photos and expired sessions
UNATTACHED_PHOTO_DAYS = 7.0  # a photo no report took within this many days is deleted

if TYPE_CHECKING:
    from alembic.config import Config


def migrate() -> int:
    from alembic import command

    command.upgrade(_alembic_config(), "head")
    return 0


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    return config


def database_is_current(url: str) -> bool:
    """True when the database has every migration applied."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current == set(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _factory() -> sessionmaker[Session]:
    from bot.db import make_engine, make_sessionmaker

    url = get_settings().database_url
    if not database_is_current(url):
        raise SystemExit(
            "The database is not up to date with the code: run `.venv/bin/hue-s migrate` "
            "(or `make migrate`) first."
        )
    return make_sessionmaker(make_engine(url))


def import_procedures(path: str | None = None, quiet: bool = False) -> int:
    """Load the procedure catalogue into the database, showing progress and what changed."""
    from pathlib import Path

    from bot.procedures.importer import CATALOG_FILE, import_catalog

    def progress(done: int, total: int) -> None:
        if not quiet and (done % 100 == 0 or done == total):
            print(f"\r  thủ tục: {done}/{total}", end="" if done < total else "\n", flush=True)

    report = import_catalog(_factory(), Path(path) if path else CATALOG_FILE, progress=progress)
    print(report.summary())
    for code, error in report.failed[:20]:
        print(f"  failed {code}: {error}")
    return 1 if report.failed else 0


def search_procedures(query: str, limit: int) -> int:
    from bot.procedures.search import ProcedureSearch

    with _factory()() as session:
        result = ProcedureSearch().search(session, query, limit=limit)
    print(f"terms: {' '.join(result.query.terms) or '(none)'}")
    for hit in result.hits:
        mark = "*" if hit is result.best else " "
        print(f"{mark} {hit.score:6.3f}  {hit.code:10}  {hit.name}")
    if result.best is None:
        print("(no match above the threshold)")
    return 0


def audit_procedures(
    codes: list[str], sample: int, seed: int, aspects: list[str], out: str | None
) -> int:
    """Each aspect's answer for some procedures next to the catalogue fields it comes from."""
    import sys
    from pathlib import Path

    from bot.procedures.answers import Aspect
    from bot.procedures.audit import audit, sample_codes
    from bot.procedures.importer import read_catalog

    records = {str(r.get("ma_thu_tuc")): r for r in read_catalog()}
    with _factory()() as session:
        chosen = codes or sample_codes(session, sample, seed)
        chosen_aspects = [Aspect(a) for a in aspects] if aspects else list(Aspect)
        lines = list(audit(session, records, chosen, chosen_aspects))
    text = "\n".join(lines)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"{len(chosen)} procedures audited → {out}")
    else:
        sys.stdout.write(text)
    return 0


def seed_demo_applications() -> int:
    from bot.applications.seed import seed_demo

    count = seed_demo(_factory())
    print(f"{count} demonstration applications loaded (marked is_demo)")
    return 0


def create_api_key(name: str, kind: str) -> int:
    from bot.apiclients.models import ClientKind, create_client

    with _factory()() as session:
        client, key = create_client(session, name, ClientKind(kind))
    print(f"Khóa API cho {client.name} ({client.kind.value}) — chỉ hiện một lần, hãy lưu lại:")
    print(key)
    return 0


def add_host(slug: str, name: str, webhook_url: str | None, public_key_file: str | None) -> int:
    """Register a host app: its API key, webhook secret and launch key, printed once."""
    from pathlib import Path

    from bot.apiclients.models import HostConfigError, create_host

    pem = Path(public_key_file).read_text(encoding="utf-8") if public_key_file else None
    with _factory()() as session:
        try:
            new = create_host(
                session,
                name=name,
                slug=slug,
                webhook_url=webhook_url,
                launch_public_key_pem=pem,
            )
        except HostConfigError as exc:
            print(exc)
            return 1
    print(f"Đã thêm ứng dụng {name} ({slug}). Các khóa dưới đây chỉ hiện một lần, hãy lưu lại:")
    print(f"  X-API-Key:        {new.api_key}")
    if new.webhook_secret:
        print(f"  webhook secret:   {new.webhook_secret}")
    if new.launch_secret:
        print(f"  launch (HS256):   {new.launch_secret}")
    else:
        print("  launch (RS256):   kiểm tra bằng khóa công khai đã cung cấp")
    return 0


def prune_sessions() -> int:
    from bot.channels.miniapp.sessions import prune_expired

    with _factory()() as session:
        removed = prune_expired(session)
    print(f"{removed} expired mini-app sessions and launch-token records removed")
    return 0


def prune_media(days: float) -> int:
    """Delete uploaded photos that were never attached to a report (abandoned drafts)."""
    removed = _prune_photos(_factory(), days)
    print(f"{removed} unattached photos older than {days:g} days removed")
    return 0


def _prune_photos(factory: sessionmaker[Session], days: float) -> int:
    from datetime import timedelta

    from bot.media.storage import prune_unattached

    with factory() as session:
        return prune_unattached(session, get_settings().media_dir, older_than=timedelta(days=days))


def housekeeping(factory: sessionmaker[Session]) -> dict[str, int]:
    """Daily, in the outbox worker: abandoned photos and expired mini-app sessions go."""
    from bot.channels.miniapp.sessions import prune_expired

    photos = _prune_photos(factory, UNATTACHED_PHOTO_DAYS)
    with factory() as session:
        sessions = prune_expired(session)
    return {"photos": photos, "sessions": sessions}


def review_nlu(days: float, out: str | None) -> int:
    """Write what the assistant did not understand in the last ``days`` days (bot/nlu_review)."""
    from pathlib import Path

    from bot.nlu_review import review

    text = review(get_settings().tracker_store_url, days)
    if out is None:
        print(text, end="")
    else:
        Path(out).write_text(text, encoding="utf-8")
        print(f"written to {out}")
    return 0


def run_outbox(once: bool = False) -> int:
    """Deliver due notifications every few seconds, answer the messages the assistant could
    not answer when it was down, announce reports that went past their deadline about once a
    minute, and forget abandoned photos and expired sessions once a day (Ctrl-C to stop)."""
    import time

    from bot.channels.host.push import HostWebhookSender
    from bot.conversations.replay import Replayer
    from bot.logs import configure_logging
    from bot.outbox.models import Channel
    from bot.outbox.senders import EmailSender, Sender, TelegramSender, WebhookSender
    from bot.outbox.worker import deliver_due
    from bot.reports.overdue import remind_overdue

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    senders: dict[Channel, Sender] = {
        Channel.WEBHOOK: WebhookSender(settings.webhook_signing_secret.get_secret_value()),
        Channel.EMAIL: EmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        ),
    }
    senders[Channel.HOST] = HostWebhookSender(_factory())
    if settings.telegram_bot_token:
        senders[Channel.TELEGRAM] = TelegramSender(
            settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base
        )
    factory = _factory()
    replayer = Replayer(settings, factory)
    last_sweep, last_housekeeping = -OVERDUE_SWEEP_SECONDS, -HOUSEKEEPING_SECONDS
    try:
        while True:
            if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                last_housekeeping = time.monotonic()
                removed = housekeeping(factory)
                if any(removed.values()):
                    print(f"housekeeping: {removed}", flush=True)
            if time.monotonic() - last_sweep >= OVERDUE_SWEEP_SECONDS:
                last_sweep = time.monotonic()
                late = remind_overdue(factory)
                if late:
                    print(f"overdue: {', '.join(late)}", flush=True)
            try:
                replayed = replayer.run_once()
            except Exception as exc:  # noqa: BLE001 - notifications must go on regardless
                print(f"replay failed: {type(exc).__name__}: {exc}", flush=True)
            else:
                if replayed:
                    print(f"replay: {replayed}", flush=True)
            counts = deliver_due(factory, senders)
            if any(counts.values()):
                print(f"outbox: {counts}", flush=True)
            if once:
                return 0
            time.sleep(settings.outbox_interval_seconds)
    except KeyboardInterrupt:
        return 0


def chat(url: str) -> int:
    """A terminal chat with the running assistant, through the public conversation API."""
    print("Trò chuyện với trợ lý Hue-S. Gõ nội dung rồi nhấn Enter; Ctrl-D để thoát.")
    session_id: str | None = None
    buttons: list[dict[str, str]] = []
    with httpx.Client(base_url=url, timeout=60) as http:
        while True:
            try:
                line = input("bạn> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if not line:
                continue
            body: dict[str, object] = {"session_id": session_id}
            if line.isdigit() and 0 < int(line) <= len(buttons):
                body["payload"] = buttons[int(line) - 1]["payload"]
            else:
                body["text"] = line
            try:
                response = http.post("/api/v1/chat", json=body)
            except httpx.HTTPError as exc:
                print(f"(không kết nối được tới {url}: {exc})")
                continue
            data = response.json()
            if not response.is_success:
                print(f"bot> {data['error']['message']}")
                continue
            session_id = data["session_id"]
            buttons = []
            for reply in data["replies"]:
                if reply.get("text"):
                    print(f"bot> {reply['text']}")
                for button in reply.get("buttons") or []:
                    buttons.append(button)
                    print(f"     [{len(buttons)}] {button['title']}")


def main(argv: list[str] | None = None) -> int:
    from bot.staff import commands as staff_commands

    parser = argparse.ArgumentParser(prog="hue-s", description="Hue-S assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    up = sub.add_parser("up", help="migrate, train if needed, run Rasa + actions + service")
    up.add_argument("--port", type=int, default=8000)
    chat_parser = sub.add_parser("chat", help="chat with the running assistant in this terminal")
    chat_parser.add_argument("--url", default="http://127.0.0.1:8000")
    procedures = sub.add_parser("procedures", help="the procedure catalogue").add_subparsers(
        dest="action", required=True
    )
    imp = procedures.add_parser("import", help="load the catalogue file (re-runnable)")
    imp.add_argument("--file", help="another catalogue file (jsonl or jsonl.gz)")
    find = procedures.add_parser("search", help="search the catalogue as the assistant does")
    find.add_argument("query")
    find.add_argument("--limit", type=int, default=5)
    check = procedures.add_parser(
        "audit", help="answers next to the catalogue fields they come from, for review"
    )
    check.add_argument("--code", action="append", default=[], help="a procedure code (repeat)")
    check.add_argument("--sample", type=int, default=10, help="how many, spread over ministries")
    check.add_argument("--seed", type=int, default=1, help="which sample (reproducible)")
    check.add_argument(
        "--aspect", action="append", default=[], help="overview, documents, fee, time, …"
    )
    check.add_argument("--out", help="write Markdown here instead of the terminal")
    applications = sub.add_parser("applications", help="one-stop-shop applications")
    applications.add_subparsers(dest="action", required=True).add_parser(
        "seed-demo", help="load the demonstration applications (development only)"
    )
    staff_commands.register(sub)  # create, unlock, reset-password, disable, set-role, …
    keys = sub.add_parser("api-keys", help="keys for Open311 clients (host apps: `host add`)")
    new_key = keys.add_subparsers(dest="action", required=True).add_parser("create")
    new_key.add_argument("name")
    new_key.add_argument("--kind", choices=["open311"], default="open311")
    hosts = sub.add_parser("host", help="host apps (super-apps) of the mini-app and host API")
    host_actions = hosts.add_subparsers(dest="action", required=True)
    new_host = host_actions.add_parser("add", help="register a host app; prints its keys once")
    new_host.add_argument("slug", help="its citizens' identity prefix and launch-token issuer")
    new_host.add_argument("--name", required=True, help="display name")
    new_host.add_argument("--webhook-url", help="where its citizens' notices are pushed")
    new_host.add_argument(
        "--launch-public-key", help="PEM file: RS256 launch tokens (default: an HS256 secret)"
    )
    host_actions.add_parser("prune-sessions", help="forget expired mini-app sessions")
    outbox = sub.add_parser("outbox", help="deliver notifications")
    outbox_run = outbox.add_subparsers(dest="action", required=True).add_parser("run")
    outbox_run.add_argument("--once", action="store_true", help="one pass, then exit")
    media = sub.add_parser("media", help="uploaded photos").add_subparsers(
        dest="action", required=True
    )
    prune = media.add_parser("prune", help="delete photos never attached to a report")
    prune.add_argument(
        "--days", type=float, default=UNATTACHED_PHOTO_DAYS, help="older than this (default 7)"
    )
    nlu = sub.add_parser("nlu", help="what the assistant did not understand (for retraining)")
    nlu_review = nlu.add_subparsers(dest="action", required=True).add_parser(
        "review", help="messages asked back about, out of scope or unsure, from Rasa's tracker"
    )
    nlu_review.add_argument("--days", type=float, default=7.0, help="this far back (default 7)")
    nlu_review.add_argument("--out", help="write the review file here (default: print it)")
    telegram = sub.add_parser("telegram", help="the citizens' Telegram bot")
    telegram_actions = telegram.add_subparsers(dest="action", required=True)
    telegram_actions.add_parser("poll", help="long polling (development)")
    telegram_actions.add_parser("set-webhook", help="register PUBLIC_BASE_URL/telegram/webhook")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        return migrate()
    if args.command == "chat":
        return chat(args.url)
    if args.command == "procedures" and args.action == "import":
        return import_procedures(args.file)
    if args.command == "procedures" and args.action == "audit":
        return audit_procedures(args.code, args.sample, args.seed, args.aspect, args.out)
    if args.command == "procedures" and args.action == "search":
        return search_procedures(args.query, args.limit)
    if args.command == "applications":
        return seed_demo_applications()
    if args.command == "staff":
        return staff_commands.run(args, _factory)
    if args.command == "api-keys":
        return create_api_key(args.name, args.kind)
    if args.command == "host" and args.action == "add":
        return add_host(args.slug, args.name, args.webhook_url, args.launch_public_key)
    if args.command == "host":
        return prune_sessions()
    if args.command == "outbox":
        return run_outbox(once=args.once)
    if args.command == "media":
        return prune_media(args.days)
    if args.command == "nlu":
        return review_nlu(args.days, args.out)
    if args.command == "telegram":
        from bot.channels.telegram.runtime import run_polling, set_webhook

        settings = get_settings()
        return run_polling(settings) if args.action == "poll" else set_webhook(settings)
    from bot import devserver

    settings = get_settings()
    migrate()
    import_procedures(quiet=False)
    if settings.environment is Environment.DEVELOPMENT:
        seed_demo_applications()
    return devserver.run(settings, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
