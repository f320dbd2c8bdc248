"""PII redaction and keyed hashing of user identifiers.

:func:`redact` replaces e-mail addresses, card numbers (only when the Luhn check passes), IBANs
(only when the ISO 13616 mod-97 check passes), IP addresses (v4 and v6), national ids (US SSN, UK
NINO, Spanish DNI with its check letter) and phone numbers (see :func:`_phone`) with ``[EMAIL]``,
``[CARD]``, ``[IBAN]``, ``[IP]``, ``[NATIONAL_ID]`` and ``[PHONE]``; given ``secrets`` (provider
keys), it also replaces each of at least :data:`MIN_SECRET_LENGTH` characters with ``[SECRET]``
(a shorter one would replace that text everywhere, and break the patterns above: a one-character
"key" turned every such character into ``[SECRET]`` and let an e-mail address escape), plus
anything shaped like a bearer token or an ``sk-`` key. Order matters: the stricter checks run
before the phone pattern so a card number is not called a phone.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import structlog

log = structlog.get_logger("charter.gateway")

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
DNI = re.compile(r"\b(\d{8})-?([A-Z])\b")
PHONE = re.compile(r"(?<![\w+(])(?:\+|\()?\d[\d ()./-]{6,18}\d(?!\w)")
SECRETISH = re.compile(r"(?:\bsk-[A-Za-z0-9_-]{16,}|(?i:bearer)\s+[A-Za-z0-9._~+/-]{16,}=*)")
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
#: Configured secrets shorter than this are not redacted as text (:func:`usable_secrets` warns).
MIN_SECRET_LENGTH = 8


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    s = value.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def _sub(
    pattern: re.Pattern[str], label: str, check: Callable[[re.Match[str]], bool] | None = None
) -> Callable[[str], str]:
    def apply(text: str) -> str:
        return pattern.sub(lambda m: label if check is None or check(m) else m.group(0), text)

    return apply


def _ip(m: re.Match[str]) -> bool:
    try:
        ipaddress.ip_address(m.group(0))
        return True
    except ValueError:
        return False


def _card(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b|\b\d{1,2}:\d{2}\b")


def _phone(m: re.Match[str]) -> bool:
    """A phone number: 8 to 15 digits (E.164 allows 15), international (``+``/``00``), trunk
    (a leading 0) or written with separators; never a date or a time. A bare run of digits
    without a leading 0 (an order or invoice number) is left alone."""
    text = m.group(0)
    digits = re.sub(r"\D", "", text)
    if not 8 <= len(digits) <= 15 or DATE.search(text):
        return False
    if text.startswith(("+", "00", "(")):
        return True
    if text.startswith("0"):
        return len(digits) >= 9
    return len(digits) >= 9 and bool(re.search(r"[ ()./-]", text))


def _iban(text: str) -> str:
    """IBANs (ISO 13616, mod-97 checked). A match may run on into the next word ("... 00 EUR"),
    so the longest prefix that passes the check is redacted and the rest kept."""

    def apply(m: re.Match[str]) -> str:
        candidate = m.group(0)
        for end in range(len(candidate), 14, -1):
            head = candidate[:end]
            if head[-1] != " " and iban_ok(head):
                return "[IBAN]" + candidate[end:]
        return candidate

    return IBAN.sub(apply, text)


STEPS: tuple[Callable[[str], str], ...] = (
    _sub(EMAIL, "[EMAIL]"),
    _iban,
    _sub(CARD, "[CARD]", _card),
    _sub(IPV4, "[IP]", _ip),
    _sub(IPV6, "[IP]", _ip),
    _sub(SSN, "[NATIONAL_ID]"),
    _sub(NINO, "[NATIONAL_ID]"),
    _sub(DNI, "[NATIONAL_ID]", lambda m: DNI_LETTERS[int(m.group(1)) % 23] == m.group(2)),
    _sub(PHONE, "[PHONE]", _phone),
)
# Cheap pre-check: text without a digit or '@' holds none of the above.
_MAYBE_PII = re.compile(r"[\d@]")


def usable_secrets(secrets: Iterable[str], source: str = "gateway") -> tuple[str, ...]:
    """The secrets :func:`redact` can replace safely: those of at least :data:`MIN_SECRET_LENGTH`
    characters. Each shorter one is left out with a warning (its length, never its value)."""
    kept = []
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            kept.append(secret)
        elif secret:
            log.warning(
                "short_secret_not_redacted",
                source=source,
                length=len(secret),
                minimum=MIN_SECRET_LENGTH,
                hint="a configured key this short cannot be real; it is not redacted as text",
            )
    return tuple(kept)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with PII and secrets replaced by placeholders (idempotent). Secrets shorter than
    :data:`MIN_SECRET_LENGTH` are ignored (see :func:`usable_secrets`)."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, "[SECRET]")
    if "sk-" in text or "earer" in text:
        text = SECRETISH.sub("[SECRET]", text)
    if not _MAYBE_PII.search(text):
        return text
    for step in STEPS:
        text = step(text)
    return text


def redact_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """:func:`redact` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [redact_value(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v, secrets) for k, v in value.items()}
    return value


def pii_key(settings_secret: str) -> bytes:
    """The HMAC key: ``CHARTER_PII_KEY`` when set, else the settings' secret key."""
    return (os.environ.get("CHARTER_PII_KEY") or settings_secret).encode()


def hash_user(user: str, key: bytes) -> str:
    """A stable pseudonym for a user id (HMAC-SHA256, hex, 32 chars): joinable, not reversible
    without the key."""
    return hmac.new(key, user.encode(), hashlib.sha256).hexdigest()[:32]
