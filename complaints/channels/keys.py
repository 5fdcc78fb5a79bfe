"""API keys, one or more per channel: made, listed and revoked from the command line.

A key is shown once, when it is made; the ledger keeps its SHA-256 digest. A request
names its key in ``Authorization: Bearer <key>`` (or ``X-API-Key``); the key says which
channel it speaks for, so the app cannot submit as the hotline nor read the hotline's cases.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import ApiKey
from models.repositories.keys import ApiKeyRepository
from rules.enums import Channel
from rules.fields import single_line

KEY_PREFIX = "ck_"


class KeyRefused(ValueError):
    """A key cannot be made or revoked; the message says why in one line."""


@dataclass(frozen=True)
class KeyInfo:
    name: str
    channel: Channel
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: the key's name and the channel it speaks for."""

    name: str
    channel: Channel


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_channel(text: str) -> Channel:
    for channel in Channel:
        if text in (channel.value, channel.code):
            return channel
    names = ", ".join(f"{c.code} ({c.value})" for c in Channel)
    raise KeyRefused(f"unknown channel {text!r}; the channels are: {names}")


def create(settings: Settings, name: str, channel: Channel, now: datetime) -> str:
    """A new key for `channel`, returned once; only its digest is stored."""
    name = name.strip()
    if not name or len(name) > 50:
        raise KeyRefused("a key's name is 1 to 50 characters, e.g. app-backend")
    try:
        single_line(name)
    except ValueError as exc:
        raise KeyRefused(f"a key's name: {exc}") from None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with unit_of_work(settings.database_url) as session:
            repo = ApiKeyRepository(session)
            if repo.by_name(name) is not None:
                raise KeyRefused(f"a key named {name!r} exists; revoke it or choose another name")
            repo.add(
                ApiKey(
                    name=name,
                    channel=channel,
                    prefix=key[:10],
                    digest=digest(key),
                    created_at=now,
                    revoked_at=None,
                )
            )
    except IntegrityError:  # made at the same moment by someone else
        raise KeyRefused(f"a key named {name!r} exists; revoke it or choose another name") from None
    return key


def revoke(settings: Settings, name: str, now: datetime) -> KeyInfo:
    with unit_of_work(settings.database_url) as session:
        key = ApiKeyRepository(session).by_name(name)
        if key is None:
            raise KeyRefused(f"no key named {name!r}; `complaints key list` shows them")
        if key.revoked_at is None:
            key.revoked_at = now
        return _info(key)


def listing(settings: Settings) -> list[KeyInfo]:
    with unit_of_work(settings.database_url) as session:
        return [_info(key) for key in ApiKeyRepository(session).all()]


def authenticate(settings: Settings, presented: str | None) -> Caller | None:
    """The caller a presented key stands for, or None (unknown, malformed or revoked)."""
    if not presented or not presented.startswith(KEY_PREFIX) or len(presented) > 100:
        return None
    wanted = digest(presented)
    with unit_of_work(settings.database_url) as session:
        key = ApiKeyRepository(session).by_digest(wanted)
        if key is None or key.revoked_at is not None or not hmac.compare_digest(key.digest, wanted):
            return None
        return Caller(key.name, key.channel)


def _info(key: ApiKey) -> KeyInfo:
    return KeyInfo(key.name, key.channel, key.prefix, key.created_at, key.revoked_at)
