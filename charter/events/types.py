"""One dataclass per event type: the payload each event carries, field by field.

A field is what a consumer (a webhook receiver, the metrics domain, the worker, another
instance) may rely on; fields are only ever added. :meth:`TypedEvent.payload` is the JSON object
stored in the outbox and sent to webhooks; a field with :data:`OPTIONAL` metadata is left out of
it when None (the payload has no such key), every other field is always present.
:data:`EVENT_TYPES` maps each type name of :mod:`charter.events.core` to its dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

from charter.events import core

__all__ = [
    "ENTRY_EVENTS",
    "EVENT_TYPES",
    "AssetCreated",
    "AssetDeleted",
    "AssetEvent",
    "AssetUpdated",
    "CachePurge",
    "DeployRecorded",
    "EntryCreated",
    "EntryDeleted",
    "EntryEvent",
    "EntryPublished",
    "EntryRolledBack",
    "EntryUnpublished",
    "EntryUpdated",
    "EvalCompleted",
    "IncidentRecorded",
    "IndexFreshnessBreached",
    "IndexUpdated",
    "PromptLabelMoved",
    "ReleaseApproved",
    "ReleaseEvent",
    "ReleaseFailed",
    "ReleasePublished",
    "ReleaseRejected",
    "ReleaseRolledBack",
    "ReleaseScheduled",
    "ReleaseSubmitted",
    "ReleaseUnscheduled",
    "ReviewLabelled",
    "ReviewQueued",
    "SchemaBreakingChange",
    "SchemaMigrated",
    "SchemaMigrationRolledBack",
    "SchemaReleased",
    "SourceChanged",
    "TokensBuilt",
    "TokensDivergence",
    "TypedEvent",
    "WebhookDeadLettered",
    "WebhookReplayed",
]


#: Field metadata of a key that may be absent from the payload (left out when None).
OPTIONAL = {"optional": True}


@dataclass(frozen=True, kw_only=True)
class TypedEvent:
    """Base of every event dataclass: ``TYPE`` is the event type name."""

    TYPE: ClassVar[str]
    #: Payload keys that are Python keywords, spelt with a trailing underscore as fields.
    RENAMED: ClassVar[dict[str, str]] = {}

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("optional"):
                continue
            out[self.RENAMED.get(f.name, f.name)] = value
        return out

    def event(self, *, domain: str = "", occurred_at: datetime | None = None) -> core.Event:
        """The :class:`~charter.events.core.Event` to :func:`~charter.events.core.record`."""
        if occurred_at is None:
            return core.Event(self.TYPE, self.payload(), domain=domain)
        return core.Event(self.TYPE, self.payload(), domain=domain, occurred_at=occurred_at)


# --- assets (domain: "assets") ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AssetEvent(TypedEvent):
    """Fields of every ``asset.*`` event: the asset and the version the change made."""

    id: str
    version: int
    sha256: str
    media_type: str
    filename: str
    actor: str  #: "<kind>:<name>"


@dataclass(frozen=True, kw_only=True)
class AssetCreated(AssetEvent):
    TYPE = core.ASSET_CREATED


@dataclass(frozen=True, kw_only=True)
class AssetUpdated(AssetEvent):
    TYPE = core.ASSET_UPDATED


@dataclass(frozen=True, kw_only=True)
class AssetDeleted(AssetEvent):
    TYPE = core.ASSET_DELETED


# --- entries (domain: the content type's x-charter.domain) ---------------------------------------


@dataclass(frozen=True, kw_only=True)
class EntryEvent(TypedEvent):
    """Fields of every ``entry.*`` event. The event's ``occurred_at`` is the moment the change
    became visible (the transaction's time)."""

    id: str
    type: str  #: the content type's name
    revision: int
    slug: str | None
    schema_id: str  #: e.g. ``page.v2``
    schema_version: str  #: e.g. ``2.1.0``


@dataclass(frozen=True, kw_only=True)
class EntryCreated(EntryEvent):
    TYPE = core.ENTRY_CREATED


@dataclass(frozen=True, kw_only=True)
class EntryUpdated(EntryEvent):
    TYPE = core.ENTRY_UPDATED


@dataclass(frozen=True, kw_only=True)
class EntryDeleted(EntryEvent):
    TYPE = core.ENTRY_DELETED
    was_published: bool


@dataclass(frozen=True, kw_only=True)
class EntryPublished(EntryEvent):
    TYPE = core.ENTRY_PUBLISHED
    previous_revision: int | None  #: the revision live before, or None


@dataclass(frozen=True, kw_only=True)
class EntryUnpublished(EntryEvent):
    TYPE = core.ENTRY_UNPUBLISHED


@dataclass(frozen=True, kw_only=True)
class EntryRolledBack(EntryEvent):
    """``revision`` is the new revision, a copy of ``restored_revision``."""

    TYPE = core.ENTRY_ROLLED_BACK
    restored_revision: int | None  #: None when the rollback unpublished the entry
    previous_revision: int | None  #: live before the rollback
    published: bool
    release_id: str | None


# --- releases (domain: "content") ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReleaseEvent(TypedEvent):
    """Fields of the review-cycle ``release.*`` events."""

    id: str
    name: str
    status: str
    round: int
    actor: str  #: ``<kind>:<name>``
    types: list[str]  #: the content types the release touches
    entries: list[str]  #: the entry ids it touches


@dataclass(frozen=True, kw_only=True)
class ReleaseSubmitted(ReleaseEvent):
    TYPE = core.RELEASE_SUBMITTED


@dataclass(frozen=True, kw_only=True)
class ReleaseApproved(ReleaseEvent):
    TYPE = core.RELEASE_APPROVED
    approvals: int
    comment: str | None


@dataclass(frozen=True, kw_only=True)
class ReleaseRejected(ReleaseEvent):
    TYPE = core.RELEASE_REJECTED
    approvals: int
    comment: str | None


@dataclass(frozen=True, kw_only=True)
class ReleaseScheduled(ReleaseEvent):
    TYPE = core.RELEASE_SCHEDULED
    scheduled_at: str  #: UTC, ISO 8601
    timezone: str  #: IANA name
    local: str  #: the local time in ``timezone``


@dataclass(frozen=True, kw_only=True)
class ReleaseUnscheduled(ReleaseEvent):
    TYPE = core.RELEASE_UNSCHEDULED


@dataclass(frozen=True, kw_only=True)
class ReleaseFailed(ReleaseEvent):
    TYPE = core.RELEASE_FAILED
    error: str


@dataclass(frozen=True, kw_only=True)
class ReleasePublished(TypedEvent):
    TYPE = core.RELEASE_PUBLISHED
    id: str
    name: str
    entries: list[str]
    types: list[str]
    items: list[dict[str, Any]]  #: ``{entry_id, action, revision}``
    published_by: str
    scheduled_at: str | None
    delay_ms: float | None  #: published_at minus scheduled_at; None for a manual publish
    catch_up: bool  #: published late by a start-up catch-up (delay_ms > 1000)
    lead_time_ms: float  #: created_at to published_at


@dataclass(frozen=True, kw_only=True)
class ReleaseRolledBack(TypedEvent):
    TYPE = core.RELEASE_ROLLED_BACK
    id: str
    name: str
    entries: list[str]
    types: list[str]
    items: list[dict[str, Any]]  #: ``{entry_id, revision}``
    actor: str


# --- delivery and webhooks -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CachePurge(TypedEvent):
    """Derived by the outbox relay from every purging event, so a CDN hook purges the same keys."""

    TYPE = core.CACHE_PURGE
    keys: list[str]  #: surrogate keys
    cause: dict[str, Any]  #: ``{event_id, type}`` of the purging event


@dataclass(frozen=True, kw_only=True)
class SourceChanged(TypedEvent):
    """Content changed in another CMS behind the delivery API (its webhook reached Charter)."""

    TYPE = core.SOURCE_CHANGED
    source: str  #: the content source's name, e.g. ``directus``
    type: str  #: the Charter content type
    id: str | None  #: the entry id, or None when the vendor item could not be tied to one
    vendor_id: str  #: the vendor's id of the changed item (a translation's own id)
    action: str  #: create | update | delete | publish | unpublish
    keys: list[str]  #: the surrogate keys this change purges
    #: When the vendor says the item changed (its own updated_at, ISO 8601), where it tells:
    #: retrieval's freshness lag runs from it (:mod:`charter.retrieval.freshness`).
    changed_at: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class WebhookDeadLettered(TypedEvent):
    """Never itself delivered by webhooks (no feedback loops)."""

    TYPE = core.WEBHOOK_DEAD_LETTERED
    delivery_id: str
    subscription_id: str
    event_id: int
    event_type: str
    attempts: int
    last_status_code: int | None
    last_error: str | None


@dataclass(frozen=True, kw_only=True)
class WebhookReplayed(TypedEvent):
    TYPE = core.WEBHOOK_REPLAYED
    delivery_ids: list[str]
    subscription_id: str
    actor: str


# --- schemas (domain: the type's x-charter.domain) -----------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SchemaReleased(TypedEvent):
    """A content-type version entered the schema registry (``charter.schemas.releases.sync``)."""

    TYPE = core.SCHEMA_RELEASED
    content_type: str
    schema_id: str
    version: str
    domain: str
    policy: str
    previous_schema_id: str | None  #: None for a first release
    previous_version: str | None
    declared_bump: str  #: new | none | patch | minor | major | downgrade
    required_bump: str | None  #: none | patch | minor | major; None for a first release
    semver_ok: bool  #: declared >= required
    changes: list[dict[str, Any]]  #: pointer, kind, message, breaks_backward, breaks_forward, level


@dataclass(frozen=True, kw_only=True)
class SchemaBreakingChange(SchemaReleased):
    """The same release when it breaks compatibility (required bump major); ``changes`` holds
    only the breaking changes. Counted by the schema-break-rate metric."""

    TYPE = core.SCHEMA_BREAKING_CHANGE


@dataclass(frozen=True, kw_only=True)
class SchemaMigrated(TypedEvent):
    """A content migration was applied (``charter.content.actions.migrate``)."""

    TYPE = core.SCHEMA_MIGRATED
    RENAMED: ClassVar[dict[str, str]] = {"from_": "from"}
    run: str
    content_type: str
    from_: str  #: payload key ``from``: the old schema id
    to: str
    entries: list[str]
    sunset: str | None
    domain: str


@dataclass(frozen=True, kw_only=True)
class SchemaMigrationRolledBack(SchemaMigrated):
    TYPE = core.SCHEMA_MIGRATION_ROLLED_BACK


# --- metrics inputs ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EvalCompleted(TypedEvent):
    """An evaluation run finished (domain ``evals``) -> llm_eval_regression_rate."""

    TYPE = core.EVAL_COMPLETED
    run_id: str
    report_format: str  #: ``charter.eval-report/1``
    dataset: str
    dataset_sha256: str
    prompt: str | None
    prompt_version: str | None
    cases: int
    errors: int
    summary: dict[str, float | None]
    baseline: str | None
    regressions: list[dict[str, Any]]  #: ``{metric, baseline, current, delta, allowed, critical}``
    regressed: bool
    critical_regressions: int
    duration_ms: float
    report: str | None
    release: str | None = field(default=None, metadata=OPTIONAL)
    suite: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class DeployRecorded(TypedEvent):
    """A deployment (``charter.metrics.deploys``; occurred_at = deployed_at) -> DORA."""

    TYPE = core.DEPLOY_RECORDED
    deploy_id: str
    service: str
    environment: str
    commit: str
    deployed_at: str
    status: str  #: succeeded | failed
    kind: str  #: planned | hotfix | rollback
    remediates: list[str]
    built_at: str | None = field(default=None, metadata=OPTIONAL)
    incident: str | None = field(default=None, metadata=OPTIONAL)
    changes: list[dict[str, Any]] | None = field(default=None, metadata=OPTIONAL)  #: ``{sha, committed_at}``
    version: str | None = field(default=None, metadata=OPTIONAL)
    url: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class IncidentRecorded(TypedEvent):
    """A production incident, new or updated; the latest per ``incident_id`` holds its state."""

    TYPE = core.INCIDENT_RECORDED
    incident_id: str
    service: str
    environment: str
    started_at: str
    deploy_id: str | None = field(default=None, metadata=OPTIONAL)  #: the cause
    resolved_at: str | None = field(default=None, metadata=OPTIONAL)
    severity: str | None = field(default=None, metadata=OPTIONAL)
    summary: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True, kw_only=True)
class TokensBuilt(TypedEvent):
    """A design-token build (``charter tokens build --record``)."""

    TYPE = core.TOKENS_BUILT
    name: str  #: npm package name
    version: str
    previous: str | None  #: last released version
    bump: str  #: major | minor | patch | none
    released: bool
    themes: list[str]
    tokens: int  #: summed over themes
    files: int
    contrast_checks: int
    contrast_failures: int  #: always 0: a failing build records nothing


@dataclass(frozen=True, kw_only=True)
class TokensDivergence(TypedEvent):
    """A divergence scan (``charter tokens divergence --record``) -> token_divergence."""

    TYPE = core.TOKENS_DIVERGENCE
    threshold: float  #: percent
    failed: bool  #: some app above the threshold
    percent: float  #: divergent / counted * 100, over every declaration
    counted: int
    divergent: int
    apps: list[dict[str, Any]]  #: ``{name, percent, counted, divergent, hard_coded, base_token, files, failed}``


@dataclass(frozen=True, kw_only=True)
class IndexUpdated(TypedEvent):
    """One entry's change became searchable in one index (domain ``retrieval``)."""

    TYPE = core.INDEX_UPDATED
    index: str
    entry_id: str
    revision: int | None  #: None when removed
    op: str  #: index | remove
    event_type: str  #: the causing event's type, or ``reconcile``
    event_id: int | None
    changed_at: str  #: ISO 8601 UTC
    searchable_at: str
    lag_ms: float  #: publish-to-searchable, the RAG freshness lag
    freshness_slo_ms: float
    locales: list[str]
    chunks: int
    instance: str  #: the app instance that indexed it


@dataclass(frozen=True, kw_only=True)
class IndexFreshnessBreached(IndexUpdated):
    """Recorded in addition to ``index.updated`` when ``lag_ms > freshness_slo_ms``."""

    TYPE = core.INDEX_FRESHNESS_BREACHED


@dataclass(frozen=True, kw_only=True)
class PromptLabelMoved(TypedEvent):
    """A prompt label moved (promotion or rollback; domain ``gateway``)."""

    TYPE = core.PROMPT_LABEL_MOVED
    prompt: str
    label: str
    action: str  #: promote | rollback
    from_version: str | None  #: None on a label's first promotion
    to_version: str
    actor: str
    reason: str
    report_sha256: str | None  #: None on rollback
    report_summary: dict[str, float] | None  #: None on rollback


@dataclass(frozen=True, kw_only=True)
class ReviewQueued(TypedEvent):
    """An answer or a gateway call was put in front of reviewers (domain ``review``)."""

    TYPE = core.REVIEW_QUEUED
    item_id: str
    source: str  #: gateway | ask
    call_id: str | None  #: the audit record (gateway_calls.id), or None
    reasons: list[str]  #: high_risk, regulated_index, refusal, low_retrieval_score, high_risk_tool, sampled
    intent: str | None
    prompt: str | None
    prompt_version: str | None


@dataclass(frozen=True, kw_only=True)
class ReviewLabelled(TypedEvent):
    """A reviewer labelled an item (domain ``review``); a label is final."""

    TYPE = core.REVIEW_LABELLED
    item_id: str
    label: str  #: correct, incorrect, should_have_refused, citation_wrong, unsafe
    reviewed_by: str
    queued_at: str  #: ISO 8601 UTC, when the item was queued
    prompt: str | None
    prompt_version: str | None


#: ``entry.*`` type name -> its dataclass (:func:`charter.content.revisions.entry_event`).
ENTRY_EVENTS: dict[str, type[EntryEvent]] = {
    cls.TYPE: cls
    for cls in (EntryCreated, EntryUpdated, EntryDeleted, EntryPublished, EntryUnpublished, EntryRolledBack)
}

#: Event type name -> its dataclass.
EVENT_TYPES: dict[str, type[TypedEvent]] = {
    cls.TYPE: cls
    for cls in (
        AssetCreated,
        AssetUpdated,
        AssetDeleted,
        EntryCreated,
        EntryUpdated,
        EntryDeleted,
        EntryPublished,
        EntryUnpublished,
        EntryRolledBack,
        ReleaseSubmitted,
        ReleaseApproved,
        ReleaseRejected,
        ReleaseScheduled,
        ReleaseUnscheduled,
        ReleasePublished,
        ReleaseFailed,
        ReleaseRolledBack,
        WebhookDeadLettered,
        WebhookReplayed,
        SchemaReleased,
        SchemaBreakingChange,
        SchemaMigrated,
        SchemaMigrationRolledBack,
        CachePurge,
        SourceChanged,
        EvalCompleted,
        DeployRecorded,
        IncidentRecorded,
        TokensBuilt,
        TokensDivergence,
        IndexUpdated,
        IndexFreshnessBreached,
        PromptLabelMoved,
        ReviewQueued,
        ReviewLabelled,
    )
}
