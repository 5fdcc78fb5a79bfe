"""The customer's links: a status page and a survey, each signed, each with an expiry.

A link carries no customer data a reader could use: the token is the case number, the
kind of page, the plan cycle and the expiry, signed with HMAC-SHA256. A forged or altered
token fails the signature; an expired one is refused; a survey token is for one callback
round (cycle), and a round that was answered or moved on refuses it — so it works once.
The key is `link_secret` when configured (several machines must share it), otherwise one
made on first use and kept in the ledger, which every process of the product shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import ProductSecret

SECRET_NAME = "customer-links"


class Page(StrEnum):
    STATUS = "c"
    SURVEY = "s"


class LinkRefused(ValueError):
    """The link is forged, malformed or expired; `expired` tells which for the page shown."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class Link:
    page: Page
    case_no: str
    cycle: int
    expires: datetime


def secret(settings: Settings, now: datetime) -> bytes:
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value().encode()
    for _ in range(2):
        try:
            with unit_of_work(settings.database_url) as session:
                row = session.get(ProductSecret, SECRET_NAME)
                if row is None:
                    row = ProductSecret(
                        name=SECRET_NAME, value=secrets.token_urlsafe(48), created_at=now
                    )
                    session.add(row)
                return row.value.encode()
        except IntegrityError:  # another process made it first: read theirs
            continue
    raise RuntimeError("the customer-link key could not be read from the ledger")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, link: Link) -> str:
    body = _b64(
        json.dumps(
            [link.page.value, link.case_no, link.cycle, int(link.expires.timestamp())],
            separators=(",", ":"),
        ).encode()
    )
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:18])
    return f"{body}.{mac}"


def verify(key: bytes, token: str, page: Page, now: datetime) -> Link:
    try:
        body, mac = token.split(".")
        expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:18])
        if not hmac.compare_digest(mac, expected):
            raise ValueError("signature")
        kind, case_no, cycle, expires = json.loads(_unb64(body))
        link = Link(
            Page(kind), str(case_no), int(cycle), datetime.fromtimestamp(expires, now.tzinfo)
        )
    except (ValueError, TypeError, UnicodeDecodeError):
        raise LinkRefused("this link is not valid") from None
    if link.page is not page:
        raise LinkRefused("this link is not valid")
    if link.expires <= now:
        raise LinkRefused("this link has expired", expired=True)
    return link


# -- short links, for an SMS ----------------------------------------------------------------
# An SMS template holds its link as the product's address with one variable, and a variable
# is a few dozen characters at most: the same link packed into bytes — page, case number,
# cycle, expiry day — and signed with a truncated HMAC, 26 characters in all.
EPOCH = date(2000, 1, 1)
SHORT = struct.Struct(">cHIBH")  # page, case day, case sequence, cycle, expiry day
SHORT_MAC = 9


def short_token(key: bytes, link: Link) -> str:
    """`link` in 26 URL-safe characters; it expires at the end of its expiry's day (UTC)."""
    _, day, sequence = link.case_no.split("-")
    case_day = (datetime.strptime(day, "%Y%m%d").date() - EPOCH).days
    expiry_day = (link.expires.astimezone(UTC).date() - EPOCH).days
    body = SHORT.pack(link.page.value.encode(), case_day, int(sequence), link.cycle, expiry_day)
    mac = hmac.new(key, b"short:" + body, hashlib.sha256).digest()[:SHORT_MAC]
    return _b64(body + mac)


def verify_short(key: bytes, token: str, now: datetime) -> Link:
    """The link a short token stands for; LinkRefused when forged, malformed or expired."""
    try:
        raw = _unb64(token)
        body, mac = raw[: SHORT.size], raw[SHORT.size :]
        expected = hmac.new(key, b"short:" + body, hashlib.sha256).digest()[:SHORT_MAC]
        if len(mac) != SHORT_MAC or not hmac.compare_digest(mac, expected):
            raise ValueError("signature")
        page, case_day, sequence, cycle, expiry_day = SHORT.unpack(body)
        case_no = f"TS-{EPOCH + timedelta(days=case_day):%Y%m%d}-{sequence:04d}"
        end = datetime.combine(EPOCH + timedelta(days=expiry_day + 1), datetime.min.time(), UTC)
        link = Link(Page(page.decode()), case_no, cycle, end)
    except (ValueError, TypeError, struct.error, UnicodeDecodeError):
        raise LinkRefused("this link is not valid") from None
    if link.expires <= now:
        raise LinkRefused("this link has expired", expired=True)
    return link


def long_url(settings: Settings, key: bytes, link: Link) -> str:
    """The page a verified short link leads to."""
    return f"{settings.public_url}/{link.page.value}/{sign(key, link)}"


def short_url(settings: Settings, key: bytes, link: Link) -> str:
    return f"{settings.public_url}/l/{short_token(key, link)}"


def status_link(settings: Settings, case_no: str, now: datetime) -> Link:
    return Link(Page.STATUS, case_no, 0, now + timedelta(days=settings.status_link_days))


def survey_link(settings: Settings, case_no: str, cycle: int, now: datetime) -> Link:
    return Link(Page.SURVEY, case_no, cycle, now + timedelta(days=settings.survey_link_days))


def status_url(settings: Settings, key: bytes, case_no: str, now: datetime) -> str:
    return long_url(settings, key, status_link(settings, case_no, now))


def survey_url(settings: Settings, key: bytes, case_no: str, cycle: int, now: datetime) -> str:
    return long_url(settings, key, survey_link(settings, case_no, cycle, now))
