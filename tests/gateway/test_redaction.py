"""PII redaction (a table of what is and is not PII) and keyed hashing of user ids."""

from __future__ import annotations

import pytest

from charter.gateway.redaction import (
    MIN_SECRET_LENGTH,
    hash_user,
    iban_ok,
    luhn_ok,
    pii_key,
    redact,
    redact_value,
    usable_secrets,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # e-mail
        ("write to ana.b+news@lumen.example today", "write to [EMAIL] today"),
        # cards: only numbers that pass the Luhn check
        ("card 4111 1111 1111 1111 exp 12/29", "card [CARD] exp 12/29"),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("amex 378282246310005", "amex [CARD]"),
        ("card 4111 1111 1111 1112 (a typo)", "card 4111 1111 1111 1112 (a typo)"),
        # IBAN: only with a valid ISO 13616 check, also when a word follows
        ("IBAN DE89370400440532013000.", "IBAN [IBAN]."),
        ("pay DE89 3704 0044 0532 0130 00 EUR now", "pay [IBAN] EUR now"),
        ("GB82 WEST 1234 5698 7654 32", "[IBAN]"),
        ("DE00370400440532013000 is not one", "DE00370400440532013000 is not one"),
        # IP addresses
        ("from 192.168.10.1 and 2001:db8::8a2e:370:7334", "from [IP] and [IP]"),
        ("not an ip: 999.1.1.1", "not an ip: 999.1.1.1"),
        # national ids
        ("SSN 123-45-6789", "SSN [NATIONAL_ID]"),
        ("NINO AB 12 34 56 C", "NINO [NATIONAL_ID]"),
        ("DNI 12345678Z", "DNI [NATIONAL_ID]"),
        ("DNI 12345678A has the wrong letter", "DNI 12345678A has the wrong letter"),
        # phones
        ("call +49 30 12345678 now", "call [PHONE] now"),
        ("call 030 1234567", "call [PHONE]"),
        ("call (415) 555-0132", "call [PHONE]"),
        ("call 415-555-0132", "call [PHONE]"),
        # not PII: dates, times, prices, order numbers, versions
        ("on 2026-10-01 10:30 we met", "on 2026-10-01 10:30 we met"),
        ("on 01.10.2026", "on 01.10.2026"),
        ("order 20261001 costs 49 EUR per month", "order 20261001 costs 49 EUR per month"),
        ("no digits here at all", "no digits here at all"),
    ],
)
def test_redaction_table(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("digits", "ok"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True), ("79927398710", False)],
)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


def test_iban_check() -> None:
    assert iban_ok("DE89 3704 0044 0532 0130 00")
    assert not iban_ok("DE89 3704 0044 0532 0130 01")
    assert not iban_ok("DE89")


def test_secrets_and_key_shapes_are_scrubbed() -> None:
    key = "prov-secret-value-123"
    assert redact(f"upstream said: bad key {key}", [key]) == "upstream said: bad key [SECRET]"
    assert redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz") == "Authorization: [SECRET]"
    assert redact("key sk-abcdefghijklmnop1234") == "key [SECRET]"


def test_redact_value_walks_json() -> None:
    value = [{"role": "user", "content": "mail me at a@b.example", "n": 3}, None]
    assert redact_value(value) == [{"role": "user", "content": "mail me at [EMAIL]", "n": 3}, None]


def test_user_ids_are_hashed_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    a = hash_user("user-42", b"key-one")
    assert a == hash_user("user-42", b"key-one")  # stable: joinable across records
    assert a != hash_user("user-42", b"key-two")  # keyed: not a plain hash anyone can recompute
    assert a != hash_user("user-43", b"key-one")
    assert "user-42" not in a and len(a) == 32
    monkeypatch.setenv("CHARTER_PII_KEY", "from-the-environment")
    assert pii_key("settings-secret") == b"from-the-environment"
    monkeypatch.delenv("CHARTER_PII_KEY")
    assert pii_key("settings-secret") == b"settings-secret"


@pytest.mark.parametrize("short", ["a", ".", "@", "ab12", "1234567"])
def test_secrets_shorter_than_8_characters_are_ignored_with_a_warning(short: str) -> None:
    """Issue 13: a one-character provider key was replaced everywhere in the audit text, after
    which an e-mail address escaped redaction."""
    from structlog.testing import capture_logs

    text = "mail ana@lumen.example, key sk-live-0123456789abcdef and a.b"
    assert redact(text, [short]) == "mail [EMAIL], key [SECRET] and a.b"
    with capture_logs() as logs:
        kept = usable_secrets([short, "long-enough-key", ""])
    assert kept == ("long-enough-key",)
    warnings = [e for e in logs if e["event"] == "short_secret_not_redacted"]
    assert warnings == [
        {
            "event": "short_secret_not_redacted",
            "log_level": "warning",
            "source": "gateway",
            "length": len(short),
            "minimum": MIN_SECRET_LENGTH,
            "hint": "a configured key this short cannot be real; it is not redacted as text",
        }
    ]
    assert redact("token long-enough-key here", kept) == "token [SECRET] here"
