"""The `hue-s` command: run, migrate, chat."""

from __future__ import annotations

import argparse
import sys

import httpx

from bot.settings import ROOT, get_settings


def migrate() -> int:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    command.upgrade(config, "head")
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
    parser = argparse.ArgumentParser(prog="hue-s", description="Hue-S assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    up = sub.add_parser("up", help="migrate, train if needed, run Rasa + actions + service")
    up.add_argument("--port", type=int, default=8000)
    chat_parser = sub.add_parser("chat", help="chat with the running assistant in this terminal")
    chat_parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        return migrate()
    if args.command == "chat":
        return chat(args.url)
    from bot import devserver

    settings = get_settings()
    migrate()
    return devserver.run(settings, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
