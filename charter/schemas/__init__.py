"""Content types as versioned contracts: registry, validation, lint, locale rules, intents."""

from charter.schemas.registry import ContentType, LocaleRules, Registry

__all__ = ["ContentType", "LocaleRules", "Registry"]
