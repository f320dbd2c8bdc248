"""Content risk: ``low``, ``medium`` or ``high`` from declared rules.

A rule matches on the content type, on terms (whole words or phrases, case-insensitive) or on
regular expressions; the item's level is the highest level of any matching rule, and the names of
the matching rules are its reasons. The defaults cover the four classes the editorial policy
names (claims, pricing, legal, regulated terms); a prompt adds or overrides rules by name under
``risk.rules``. Medium and high drafts always go to human review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from charter.exceptions import ConfigError

LEVELS = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class RiskRule:
    name: str
    level: str
    types: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    def compile(self) -> re.Pattern[str] | None:
        alts = [r"\b" + re.escape(t) + r"\b" for t in self.terms] + list(self.patterns)
        return re.compile("|".join(alts), re.IGNORECASE) if alts else None


DEFAULT_RULES: tuple[RiskRule, ...] = (
    RiskRule(
        "claims",
        "medium",
        types=("marketing-claim",),
        terms=(
            "best",
            "fastest",
            "cheapest",
            "number one",
            "#1",
            "guaranteed",
            "unbeatable",
            "world-leading",
            "market-leading",
            "proven",
            "100%",
            "risk-free",
        ),
    ),
    RiskRule(
        "pricing",
        "medium",
        types=("pricing-plan",),
        terms=("price", "pricing", "discount", "per month", "per year", "free trial", "refund"),
        patterns=(r"(?:[$€£]\s?\d)|(?:\d[\d.,]*\s?(?:EUR|USD|GBP|CHF|€|\$|£))",),
    ),
    RiskRule(
        "legal",
        "high",
        types=("legal-text",),
        terms=(
            "warranty",
            "liability",
            "liable",
            "terms and conditions",
            "indemnify",
            "gdpr",
            "contract",
            "jurisdiction",
            "privacy policy",
        ),
    ),
    RiskRule(
        "regulated",
        "high",
        terms=(
            "cure",
            "cures",
            "treats",
            "medical",
            "clinically",
            "diagnose",
            "investment advice",
            "guaranteed returns",
            "tax advice",
            "financial advice",
            "fda",
            "ce-certified",
        ),
    ),
)


class RiskRules:
    """A compiled rule set (compiled once, applied per item)."""

    def __init__(self, rules: tuple[RiskRule, ...] | list[RiskRule] = DEFAULT_RULES) -> None:
        self.rules = list(rules)
        self._compiled = [(r, r.compile()) for r in self.rules]

    @classmethod
    def from_config(cls, raw: Any, where: str = "risk") -> RiskRules:
        """Defaults, plus/overridden by ``[{name, level, types?, terms?, patterns?}]``."""
        by_name = {r.name: r for r in DEFAULT_RULES}
        for i, item in enumerate(raw or []):
            if not isinstance(item, dict) or item.get("level") not in LEVELS or not item.get("name"):
                raise ConfigError(f"{where}/rules/{i}: a rule needs a name and a level (low, medium, high)")
            try:
                rule = RiskRule(
                    str(item["name"]),
                    str(item["level"]),
                    tuple(item.get("types") or ()),
                    tuple(item.get("terms") or ()),
                    tuple(item.get("patterns") or ()),
                )
                rule.compile()
            except re.error as exc:
                raise ConfigError(f"{where}/rules/{i}: bad pattern: {exc}") from exc
            by_name[rule.name] = rule
        return cls(tuple(by_name.values()))

    def assess(self, text: str, type_name: str | None = None) -> tuple[str, list[str]]:
        level, reasons = "low", []
        for rule, pattern in self._compiled:
            if (type_name and type_name in rule.types) or (pattern is not None and pattern.search(text)):
                reasons.append(rule.name)
                if LEVELS[rule.level] > LEVELS[level]:
                    level = rule.level
        return level, reasons
