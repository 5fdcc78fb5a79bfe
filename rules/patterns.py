"""Patterns across cases: clusters of similar complaints and repeat complaints.

A cluster is at least K complaints of the same category (and the same product, when one
is given) received within a sliding window T: leadership gets one alert listing them.
A repeat complaint comes from a customer who complained about the same product or order
within the last N days; it is flagged and linked to the earlier case.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rules.enums import Category
from rules.fields import FULL_WIDTH_DIGITS
from rules.working_time import Limit, Unit


class PatternPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cluster_size: int = Field(
        default=5, ge=2, description="K: this many similar complaints make a cluster"
    )
    cluster_window: Limit = Field(
        default=Limit.model_validate("24h"), description="T: ...received within this window"
    )
    repeat_within_days: float = Field(
        default=30, gt=0, description="N: same customer and product/order within N days"
    )

    @field_validator("cluster_window")
    @classmethod
    def _hours_only(cls, value: Limit) -> Limit:
        if value.unit is not Unit.HOURS or value.amount <= 0:
            raise ValueError("the cluster window is a time span such as '24h' or '30m'")
        return value

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.cluster_window.amount)


@dataclass(frozen=True)
class CaseFacts:
    """What pattern detection needs of a case."""

    case_no: str
    received_at: datetime
    category: Category | None = None
    product: str | None = None
    order_no: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Cluster:
    category: Category
    product: str | None
    members: tuple[CaseFacts, ...]  # oldest first

    @property
    def family(self) -> str:
        """What the cluster is about: the key prefix shared by all its alerts."""
        product = self.product or "-"
        return f"cluster:{self.category.code}:{product[:40]}:"

    @property
    def key(self) -> str:
        """Unique per burst: the family and the first case of the window."""
        return self.family + self.members[0].case_no


def find_clusters(
    cases: Iterable[CaseFacts], policy: PatternPolicy, now: datetime
) -> list[Cluster]:
    """Groups of at least K cases of one category (and product) inside the window ending now."""
    since = now - policy.window
    groups: dict[tuple[Category, str | None], list[CaseFacts]] = defaultdict(list)
    for case in cases:
        if case.category is not None and since <= case.received_at <= now:
            groups[(case.category, _product(case.product))].append(case)
    found = []
    for (category, product), members in groups.items():
        if len(members) >= policy.cluster_size:
            members.sort(key=lambda c: (c.received_at, c.case_no))
            found.append(Cluster(category, product, tuple(members)))
    return sorted(found, key=lambda c: c.members[0].received_at)


def repeat_of(
    new: CaseFacts, earlier: Sequence[CaseFacts], policy: PatternPolicy
) -> CaseFacts | None:
    """The most recent earlier case of the same customer about the same product or order."""
    since = new.received_at - timedelta(days=policy.repeat_within_days)
    matches = [
        old
        for old in earlier
        if old.case_no != new.case_no
        and since <= old.received_at <= new.received_at
        and same_customer(new, old)
        and _same_subject(new, old)
    ]
    return max(matches, key=lambda c: (c.received_at, c.case_no), default=None)


def same_customer(a: CaseFacts, b: CaseFacts) -> bool:
    phone_a, phone_b = normal_phone(a.phone), normal_phone(b.phone)
    if phone_a and phone_a == phone_b:
        return True
    email_a, email_b = normal_email(a.email), normal_email(b.email)
    return bool(email_a) and email_a == email_b


def _same_subject(a: CaseFacts, b: CaseFacts) -> bool:
    if a.order_no and b.order_no and a.order_no.strip() == b.order_no.strip():
        return True
    product_a, product_b = _product(a.product), _product(b.product)
    return product_a is not None and product_a == product_b


def _product(product: str | None) -> str | None:
    if product is None:
        return None
    cleaned = " ".join(product.split()).casefold()
    return cleaned or None


def normal_phone(phone: str | None) -> str | None:
    """Digits only, without a +86 / 0086 prefix: ``+86 138-1234-5678`` → ``13812345678``."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone.translate(FULL_WIDTH_DIGITS))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix) :]
    return digits or None


def phone_forms(phone: str | None) -> set[str]:
    """The ways the ledger may hold this number: digits only, or a landline with its
    area code hyphenated (010-12345678, 0755-1234567), to find earlier complaints."""
    digits = normal_phone(phone)
    if not digits:
        return set()
    forms = {digits}
    if digits.startswith("0"):
        forms |= {f"{digits[:n]}-{digits[n:]}" for n in (3, 4) if len(digits) - n in (7, 8)}
    return forms


def normal_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None
