"""Personal data kept no longer than needed (个人信息保护法): the rules of erasing a closed
case's customer, and the one-way key the figures count customers by.

Erasing a customer must not change a past report. The reports count distinct and
returning customers, so each case keeps `customer_key`: an HMAC-SHA256 of the customer's
phone (else e-mail), keyed with a random key of the installation kept in the ledger. The
same customer gives the same key, and the key gives back no phone or e-mail: the figures
survive erasure, the contact does not. Destroying the installation key makes the keys
anonymous for good. Everything else a figure reads (dates, severity, category,
department, scores, clocks) is no personal data and stays.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from rules.masking import mask_customer_text
from rules.patterns import normal_email, normal_phone

ERASED_NAME = "（已删除）"
"""What a case says its customer was called once erased."""
ERASED = "erased"  # the audit word of an erasure
RETENTION_ACTOR = "保留期限 / retention"  # who erases when the retention period is over
KEY_SECRET = "customer-key"  # the ledger's product_secrets row the customer key is keyed with

CASE_TEXT = (
    "description",
    "demand_detail",
    "on_spot_answer",
    "root_cause",
    "improvement",
    "result_summary",
)
"""The case's free text: a customer's words and contacts may be in any of it."""
CONTACT = ("customer_name", "customer_phone", "customer_email")

STAFF_KEYS = frozenset({"actor", "owner", "attributed_employee"})
"""Keys of an audit payload that name a member of staff, never the customer: kept as they
are, so the handler table (a plan's owner) reads the same after an erasure."""


class Reason(StrEnum):
    """Why a case's customer is erased."""

    REQUEST = "request"  # the customer (or the law) asked: `complaints erase`
    RETENTION = "retention"  # closed longer than the retention period

    @property
    def label(self) -> str:
        return {
            Reason.REQUEST: "应要求删除 / on request",
            Reason.RETENTION: "保留期限届满 / retention period over",
        }[self]


def customer_key(secret: bytes, phone: str | None, email: str | None) -> str | None:
    """The customer's one-way key: the phone (digits only, no +86), else the e-mail (lower
    case), as repeat detection compares them; None for a case with neither."""
    who = normal_phone(phone) or normal_email(email)
    if who is None:
        return None
    return hmac.new(secret, who.encode(), hashlib.sha256).hexdigest()


def erase_payload(value: Any, name: str | None, phone: str | None, email: str | None) -> Any:
    """A JSON value (an audit payload, a nested list) with every string masked as the
    reports mask free text (`mask_customer_text`), except the names of staff (STAFF_KEYS)."""
    if isinstance(value, str):
        return mask_customer_text(value, name, phone, email)
    if isinstance(value, list):
        return [erase_payload(item, name, phone, email) for item in value]
    if isinstance(value, dict):
        return {
            key: item if key in STAFF_KEYS else erase_payload(item, name, phone, email)
            for key, item in value.items()
        }
    return value


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Cases closed at or before this moment are due for erasure."""
    return now - timedelta(days=retention_days)
