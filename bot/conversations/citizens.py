"""Citizen ids ("sender ids") and how staff are allowed to see them.

A citizen is named everywhere (message log, Rasa's tracker, reports, followers, photos) by a
sender id ``<channel>:<ident>``: ``telegram:<chat id>``, ``host:<slug>:<host's citizen id>``,
``web:<…>``, ``open311:<client id>:<phone or e-mail>``.

Some of these are credentials. The open web chat's ``session_id`` is the only thing that
proves a browser is that conversation, so it never leaves the browser that holds it: the
sender id keeps only a hash of it, and nothing the service stores or shows can be sent back as
a ``session_id``. Staff never see a sender id either: they see a display handle (the channel
and a masked contact); the operations centre may reveal the contact it needs to call back,
and each reveal is logged (bot/staff/reporters.py).
"""

from __future__ import annotations

import hashlib

WEB_CHANNEL = "web"

# How staff name each channel in a display handle.
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "web": "Web",
    "host": "Ứng dụng",
    "open311": "Open311",
}


def web_sender_id(session_id: str) -> str:
    """The sender id of an open web chat session: a hash of its secret session id."""
    digest = hashlib.sha256(f"hue-s web chat:{session_id}".encode()).hexdigest()
    return f"{WEB_CHANNEL}:{digest[:32]}"


def mask(contact: str, keep: int = 4) -> str:
    """``***4521`` for a phone or id; ``n***@gmail.com`` for an e-mail address."""
    contact = contact.strip()
    if "@" in contact:
        user, _, domain = contact.partition("@")
        return f"{user[:1]}***@{domain}"
    return "***" + contact[-keep:] if len(contact) > keep else "***"


def contact_of(sender_id: str) -> tuple[str, str | None]:
    """(channel, the contact staff could call back or None): what a sender id says of a person.

    The web chat's and the mini-app guest's ids hold no contact at all (a hash, a random id).
    """
    channel, _, ident = sender_id.partition(":")
    if channel == "telegram" and ident:
        return channel, ident
    if channel in {"host", "open311"}:
        source, _, contact = ident.partition(":")  # host slug, or Open311 client id
        return channel, (contact or None) if source else None
    return channel, None


def reporter_handle(sender_id: str, channel: str | None = None) -> str:
    """How staff see a reporter: "Telegram · ***4521", "Web · khách", "Open311 · n***@x.vn"."""
    kind, contact = contact_of(sender_id)
    name = CHANNEL_NAMES.get(kind, CHANNEL_NAMES.get(channel or "", "Khác"))
    if kind == "host":
        name = f"{name} {sender_id.split(':')[1]}"
    return f"{name} · {mask(contact) if contact else 'khách'}"
