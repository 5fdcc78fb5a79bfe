"""Masking of personal data (脱敏) for anything shown beyond the case handlers.

Reports, notifications to other departments, logs and run names show a customer as
``张*`` / ``138****5678`` / ``z***@example.com``. Every function takes ``None`` and gives
``None`` back, so optional fields can be passed straight through. Values that do not look
like what the function expects are still masked, keeping at most their last two
characters: masking fails closed, never open.
"""

from __future__ import annotations

import re
from typing import overload

from rules.fields import FULL_WIDTH_DIGITS

STAR = "*"

# ASCII and full-width digits: Chinese input methods often type the latter.
_DIGIT = "0-9０-９"

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_LANDLINE = re.compile(r"(0\d{2,3})(-?)(\d{7,8})", re.ASCII)

# A mainland mobile inside free text: optional +86 / 0086 / 86, then 3-4-4 digits optionally
# separated by one space or hyphen, and not part of a longer run of digits (order numbers).
_MOBILE_IN_TEXT = re.compile(
    rf"(?<![{_DIGIT}])"
    rf"(?:(?:[+＋]|00|００)?(?:86|８６)[ \-]?)?"
    rf"[1１][3-9３-９][{_DIGIT}]"
    rf"[ \-]?[{_DIGIT}]{{4}}"
    rf"[ \-]?[{_DIGIT}]{{4}}"
    rf"(?![{_DIGIT}])"
)
# An e-mail address inside free text. ASCII classes on purpose: Chinese text written
# right up against an address (``请联系zhangsan@example.com谢谢``) is not part of it.
_EMAIL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
)
# A mainland landline inside free text: area code, optional hyphen, 7-8 digits, not part of
# a longer run of digits. An order number of that shape is masked too: masking fails closed.
_LANDLINE_IN_TEXT = re.compile(
    rf"(?<![{_DIGIT}])[0０][{_DIGIT}]{{2,3}}[ \-]?[{_DIGIT}]{{7,8}}(?![{_DIGIT}])"
)
# Where a name splits into parts that are masked one by one.
_NAME_SEPARATORS = re.compile(r"([\s·・•.\-]+)")


def _mask_rest(value: str) -> str:
    """Keep at most the last two characters, and never more than half of the value."""
    keep = min(2, len(value) // 2)
    return STAR * (len(value) - keep) + value[len(value) - keep :]


@overload
def mask_phone(phone: str) -> str: ...
@overload
def mask_phone(phone: None) -> None: ...
def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``; ``010-12345678`` → ``010-****5678``.

    Spaces, hyphens, a ``+86`` prefix and full-width digits are normalised first.
    Anything else keeps at most its last two characters.
    """
    if phone is None:
        return None
    value = phone.strip()
    if not value:
        return value
    compact = value.translate(FULL_WIDTH_DIGITS).replace(" ", "")
    compact = compact.removeprefix("+86")
    if _MOBILE.fullmatch(compact.replace("-", "")):
        digits = compact.replace("-", "")
        return f"{digits[:3]}{STAR * 4}{digits[-4:]}"
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        area, dash, number = landline.groups()
        if not dash:  # 010 and 02x are the only three-digit area codes
            split = 3 if compact.startswith(("010", "02")) else 4
            area, number = compact[:split], compact[split:]
        return f"{area}{dash}{STAR * (len(number) - 4)}{number[-4:]}"
    return _mask_rest(value)


@overload
def mask_email(email: str) -> str: ...
@overload
def mask_email(email: None) -> None: ...
def mask_email(email: str | None) -> str | None:
    """``zhangsan@example.com`` → ``z***@example.com``.

    The local part keeps its first character (none when it has only one) followed by a
    fixed ``***``, so its length is not revealed. The domain stays readable.
    """
    if email is None:
        return None
    value = email.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return _mask_rest(value)
    first = local[0] if len(local) > 1 else ""
    return f"{first}{STAR * 3}@{domain}"


@overload
def mask_name(name: str) -> str: ...
@overload
def mask_name(name: None) -> None: ...
def mask_name(name: str | None) -> str | None:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``, ``John Smith`` → ``J*** S****``.

    Each part of the name (split at spaces, ``·``, ``.`` and ``-``) keeps its first
    character; a name of one character is masked completely.
    """
    if name is None:
        return None
    value = name.strip()
    parts = _NAME_SEPARATORS.split(value)
    if sum(len(part) for part in parts[::2]) <= 1:
        return STAR * len(value)
    return "".join(
        part if index % 2 else part[:1] + STAR * (len(part) - 1) for index, part in enumerate(parts)
    )


@overload
def mask_text(text: str) -> str: ...
@overload
def mask_text(text: None) -> None: ...
def mask_text(text: str | None) -> str | None:
    """Mask every mainland mobile number and e-mail address inside free text.

    For customer quotes and descriptions; everything else in the text is left as it is.
    A masked number is written in its plain form (``138****5678``).
    """
    if text is None:
        return None
    masked = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), text)
    masked = _MOBILE_IN_TEXT.sub(lambda m: _mask_mobile_in_text(m.group()), masked)
    return _LANDLINE_IN_TEXT.sub(
        lambda m: mask_phone(m.group().translate(FULL_WIDTH_DIGITS)), masked
    )


@overload
def mask_customer_text(
    text: str, name: str | None = None, phone: str | None = None, email: str | None = None
) -> str: ...
@overload
def mask_customer_text(
    text: None, name: str | None = None, phone: str | None = None, email: str | None = None
) -> None: ...
def mask_customer_text(
    text: str | None, name: str | None = None, phone: str | None = None, email: str | None = None
) -> str | None:
    """Free text about one customer, as anyone beyond the case's handlers may see it: every
    phone number and e-mail address masked (`mask_text`), and the customer's own name,
    phone and e-mail wherever the text repeats them, however they were written."""
    if text is None:
        return None
    masked = text
    for value, mask in ((email, mask_email), (phone, mask_phone)):
        value = (value or "").strip()
        if len(value) > 3:
            masked = masked.replace(value, mask(value))
    masked = mask_text(masked)
    name = (name or "").strip()
    if len(name) > 1:  # one character would mask every 张 in the text
        masked = masked.replace(name, mask_name(name))
    return masked


def _mask_mobile_in_text(found: str) -> str:
    digits = re.sub(r"[^0-9]", "", found.translate(FULL_WIDTH_DIGITS))
    return mask_phone(digits[-11:])
