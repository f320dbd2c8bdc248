"""Every event name has its dataclass, and a dataclass's payload is the documented JSON object."""

from __future__ import annotations

import pytest

from charter.events import core
from charter.events.types import (
    ENTRY_EVENTS,
    EVENT_TYPES,
    DeployRecorded,
    EntryPublished,
    EntryUpdated,
    SchemaMigrated,
)

NAMES = {value for name, value in vars(core).items() if name.isupper() and isinstance(value, str)}


def test_every_event_name_has_its_dataclass() -> None:
    assert set(EVENT_TYPES) == NAMES
    assert all(name == cls.TYPE for name, cls in EVENT_TYPES.items())
    assert set(ENTRY_EVENTS) == {n for n in NAMES if n.startswith("entry.")}


def test_payloads_are_the_documented_objects() -> None:
    base = {
        "id": "e1",
        "type": "page",
        "revision": 2,
        "slug": "home",
        "schema_id": "page.v1",
        "schema_version": "1.0.0",
    }
    published = EntryPublished(**base, previous_revision=None)
    assert published.payload() == {**base, "previous_revision": None}  # a plain field stays, even when None
    event = published.event(domain="marketing")
    assert (event.type, event.domain, event.payload) == ("entry.published", "marketing", published.payload())
    deploy = DeployRecorded(
        deploy_id="d1", service="web", environment="prod", commit="abc", deployed_at="2026-01-01T00:00:00Z",
        status="succeeded", kind="planned", remediates=[], version="1.2.0",
    )  # fmt: skip
    assert "built_at" not in deploy.payload() and deploy.payload()["version"] == "1.2.0"  # optional keys left out
    migrated = SchemaMigrated(
        run="r1", content_type="page", from_="page.v1", to="page.v2", entries=[], sunset=None, domain="marketing"
    )
    assert migrated.payload()["from"] == "page.v1" and "from_" not in migrated.payload()


def test_a_field_an_event_does_not_have_is_refused() -> None:
    with pytest.raises(TypeError):
        EntryUpdated(id="e1", type="page", revision=1, slug=None, schema_id="page.v1", schema_version="1", extra=1)  # type: ignore[call-arg]
