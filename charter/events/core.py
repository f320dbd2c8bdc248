"""Domain events and the transactional outbox (re-exported by :mod:`charter.events`).

An event row is written in the same database transaction as the change it describes
(:func:`record`), so a change is never visible without its event and vice versa. After the
transaction commits, the app's :class:`EventBus` hands events to in-process subscribers (cache
purge, re-indexing); the worker and other instances read the ``events`` table to catch up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from charter.db.tables import events as events_table

__all__ = [
    "ASSET_CREATED",
    "ASSET_DELETED",
    "ASSET_UPDATED",
    "CACHE_PURGE",
    "DEPLOY_RECORDED",
    "ENTRY_CREATED",
    "ENTRY_DELETED",
    "ENTRY_PUBLISHED",
    "ENTRY_ROLLED_BACK",
    "ENTRY_UNPUBLISHED",
    "ENTRY_UPDATED",
    "EVAL_COMPLETED",
    "INCIDENT_RECORDED",
    "INDEX_FRESHNESS_BREACHED",
    "INDEX_UPDATED",
    "PROMPT_LABEL_MOVED",
    "RELEASE_APPROVED",
    "RELEASE_FAILED",
    "RELEASE_PUBLISHED",
    "RELEASE_REJECTED",
    "RELEASE_ROLLED_BACK",
    "RELEASE_SCHEDULED",
    "RELEASE_SUBMITTED",
    "RELEASE_UNSCHEDULED",
    "REVIEW_LABELLED",
    "REVIEW_QUEUED",
    "SCHEMA_BREAKING_CHANGE",
    "SCHEMA_MIGRATED",
    "SCHEMA_MIGRATION_ROLLED_BACK",
    "SCHEMA_RELEASED",
    "SOURCE_CHANGED",
    "TOKENS_BUILT",
    "TOKENS_DIVERGENCE",
    "WEBHOOK_DEAD_LETTERED",
    "WEBHOOK_REPLAYED",
    "Event",
    "EventBus",
    "Subscriber",
    "from_row",
    "record",
    "since",
    "utcnow",
]

# Event type names (the part a webhook subscription names).
#
# Payloads of the editorial pipeline (docs/releases.md, docs/webhooks.md list them in full):
#
# * entry.created / entry.updated / entry.deleted / entry.published / entry.unpublished:
#   {id, type, revision, slug, schema_id, schema_version}; entry.published adds
#   previous_revision (the revision live before, or null). The event's ``occurred_at`` is the
#   moment the change became visible (the transaction's time).
# * entry.rolled_back: {id, type, revision (the new revision), restored_revision (whose content
#   it copies), previous_revision (live before), published (bool), release_id (or null), slug,
#   schema_id, schema_version}.
# * release.submitted / release.approved / release.rejected / release.scheduled /
#   release.unscheduled / release.failed: {id, name, status, round, actor, types, entries};
#   approved/rejected add approvals and comment; scheduled adds scheduled_at (UTC ISO 8601),
#   timezone and local; failed adds error.
# * release.published: {id, name, entries: [entry ids], types: [content types], items:
#   [{entry_id, action, revision}], published_by, scheduled_at (or null), delay_ms (published_at
#   minus scheduled_at, or null for a manual publish), catch_up (true when published late by a
#   start-up catch-up, i.e. delay_ms > 1000), lead_time_ms (created_at to published_at)}.
# * release.rolled_back: {id, name, entries, types, items: [{entry_id, revision}], actor}.
# * cache.purge: {keys: [surrogate keys], cause: {event_id, type}}; derived by the outbox relay
#   from every purging event (entry.published/unpublished/deleted/rolled_back, release.published,
#   release.rolled_back) so a CDN hook (a webhook subscribed to cache.purge) purges the same keys.
# * webhook.dead_lettered: {delivery_id, subscription_id, event_id, event_type, attempts,
#   last_status_code, last_error}; webhook.replayed: {delivery_ids, subscription_id, actor}.
#   webhook.* events are never themselves delivered by webhooks (no feedback loops).
# * asset.created / asset.updated / asset.deleted: {id, version, sha256, media_type, filename,
#   actor}; an asset's change purges the surrogate key ``asset:<id>`` (docs/assets.md).
ASSET_CREATED = "asset.created"
ASSET_UPDATED = "asset.updated"
ASSET_DELETED = "asset.deleted"
ENTRY_CREATED = "entry.created"
ENTRY_UPDATED = "entry.updated"
ENTRY_DELETED = "entry.deleted"
ENTRY_PUBLISHED = "entry.published"
ENTRY_UNPUBLISHED = "entry.unpublished"
ENTRY_ROLLED_BACK = "entry.rolled_back"
RELEASE_SUBMITTED = "release.submitted"
RELEASE_APPROVED = "release.approved"
RELEASE_REJECTED = "release.rejected"
RELEASE_SCHEDULED = "release.scheduled"
RELEASE_UNSCHEDULED = "release.unscheduled"
RELEASE_PUBLISHED = "release.published"
RELEASE_FAILED = "release.failed"
RELEASE_ROLLED_BACK = "release.rolled_back"
WEBHOOK_DEAD_LETTERED = "webhook.dead_lettered"
WEBHOOK_REPLAYED = "webhook.replayed"
#: A content-type version entered the schema registry (``charter.schemas.releases.sync``).
#: domain = the type's ``x-charter.domain``. Payload: ``content_type`` (name), ``schema_id``
#: ("page.v2"), ``version`` ("2.0.0"), ``domain``, ``policy``, ``previous_schema_id`` and
#: ``previous_version`` (None for a first release), ``declared_bump`` (new|none|patch|minor|major|
#: downgrade), ``required_bump`` (none|patch|minor|major, None for a first release),
#: ``semver_ok`` (declared >= required), ``changes`` (every change: pointer, kind, message,
#: breaks_backward, breaks_forward, level).
SCHEMA_RELEASED = "schema.released"
#: The same release when it breaks compatibility under the type's policy (required bump
#: ``major``); one per breaking release, for the schema-break-rate metric (per domain per
#: quarter). Payload as SCHEMA_RELEASED, with ``changes`` holding only the breaking changes.
SCHEMA_BREAKING_CHANGE = "schema.breaking_change"
# (charter.metrics reads SCHEMA_RELEASED / SCHEMA_BREAKING_CHANGE: Event.domain, and schema_id,
# version, previous_version for the breakdown -> schema_break_rate.)
#: A content migration was applied (``charter.content.actions.migrate``). Payload: ``run``,
#: ``content_type``, ``from`` / ``to`` schema ids, ``entries`` (ids), ``sunset``, ``domain``.
SCHEMA_MIGRATED = "schema.migrated"
#: A content migration run was rolled back. Payload as SCHEMA_MIGRATED.
SCHEMA_MIGRATION_ROLLED_BACK = "schema.migration_rolled_back"
CACHE_PURGE = "cache.purge"
#: Content changed in another CMS behind the delivery API (``source`` is not ``embedded``): its
#: webhook reached ``POST /v1/sources/{source}/events`` (docs/sources.md). domain = the content
#: type's ``x-charter.domain``. Payload: ``source`` (its name), ``type`` (Charter content type),
#: ``id`` (the entry id, or null when the vendor item could not be tied to one), ``vendor_id`` (the
#: vendor's own id of the changed item), ``action`` ("create" | "update" | "delete" |
#: "publish" | "unpublish"), ``keys`` (the surrogate keys purged). A purging event: the cache
#: purge, ``cache.purge`` webhooks and other instances follow it like ``entry.published``.
SOURCE_CHANGED = "source.changed"
# The metrics contract (docs/metrics.md): what charter.metrics reads from each event below. An
# event that lacks a field a metric needs is left out of it and named in the report's notes.
#: An eval run finished. Payload read: ``release`` (str, e.g. an app version), else ``prompt`` +
#: ``prompt_version`` (release "prompt@version"); ``suite``, else ``dataset``; ``regressions``
#: ([{metric, critical: bool}] or [{metric, severity}]; critical/“critical” counts). Latest run
#: per (release, suite) in the window -> llm_eval_regression_rate.
EVAL_COMPLETED = "eval.completed"
#: A deployment (written by charter.metrics.deploys; occurred_at = deployed_at). Payload:
#: ``deploy_id``, ``service``, ``environment``, ``commit``, ``deployed_at``, ``built_at``?,
#: ``status`` (succeeded|failed), ``kind`` (planned|hotfix|rollback), ``remediates`` [deploy_id],
#: ``incident``?, ``changes``? [{sha, committed_at}], ``version``?, ``url``? -> DORA's five and
#: build_to_deploy_lead_time.
DEPLOY_RECORDED = "deploy.recorded"
#: A production incident, new or updated (charter.metrics.deploys; the latest event per
#: ``incident_id`` holds its whole state). Payload: ``incident_id``, ``service``, ``environment``,
#: ``deploy_id``? (the cause), ``started_at``, ``resolved_at``?, ``severity``?, ``summary``?
#: -> change_fail_rate, failed_deployment_recovery_time.
INCIDENT_RECORDED = "incident.recorded"
#: A design-token build (``charter tokens build --record``, :func:`charter.tokens.metrics.record_build`).
#: Payload: ``{"name": npm package name, "version": semver, "previous": last released version or
#: null, "bump": "major"|"minor"|"patch"|"none", "released": bool, "themes": [theme names],
#: "tokens": int (summed over themes), "files": int, "contrast_checks": int,
#: "contrast_failures": int (always 0: a failing build records nothing)}``.
TOKENS_BUILT = "tokens.built"
#: A divergence scan (``charter tokens divergence --record``,
#: :func:`charter.tokens.metrics.record_divergence`). Payload: ``{"threshold": percent,
#: "failed": bool (some app above threshold), "percent": total, "counted": int, "divergent": int,
#: "apps": [{"name", "percent", "counted", "divergent", "hard_coded", "base_token", "files",
#: "failed"}]}``; percentages are divergent / counted * 100, summed over declarations.
#: Read by the metrics domain: ``apps`` [{name, percent (0-100: share of declarations that
#: override tokens), divergent?, counted?}]; latest scan per app in the window -> token_divergence.
TOKENS_DIVERGENCE = "tokens.divergence"
#: An index picked up a content change. Payload read: ``index`` (str), ``lag_ms`` (content change
#: -> searchable) -> rag_freshness_lag.
INDEX_UPDATED = "index.updated"
INDEX_FRESHNESS_BREACHED = "index.freshness_breached"
#: Human review (charter.review, docs/review.md): an item was queued for review / labelled.
REVIEW_QUEUED = "review.queued"
REVIEW_LABELLED = "review.labelled"

#: Payloads of the retrieval and evaluation events (what consumers such as the metrics domain
#: may rely on; keys are only ever added).
#:
#: ``index.updated`` (domain ``retrieval``): one entry's change became searchable in one index.
#:   ``index`` (str), ``entry_id`` (str), ``revision`` (int | None: None when removed),
#:   ``op`` ("index" | "remove"), ``event_type`` (the causing event's type, or "reconcile" when a
#:   start-up found the index stale), ``event_id`` (int | None), ``changed_at`` and
#:   ``searchable_at`` (ISO 8601 UTC), ``lag_ms`` (float: publish-to-searchable, the RAG
#:   freshness lag), ``freshness_slo_ms`` (float: the index's SLO), ``locales`` (list[str]),
#:   ``chunks`` (int), ``instance`` (str: the app instance that indexed it).
#: ``index.freshness_breached`` (domain ``retrieval``): the same payload, recorded in addition
#:   when ``lag_ms > freshness_slo_ms``.
#: ``eval.completed`` (domain ``evals``): an evaluation run finished.
#:   ``run_id`` (str), ``report_format`` ("charter.eval-report/1"), ``dataset`` (path),
#:   ``dataset_sha256``, ``prompt`` / ``prompt_version`` (str | None), ``cases`` (int),
#:   ``errors`` (int), ``summary`` ({metric: float | None}), ``baseline`` (path | None),
#:   ``regressions`` (list of {metric, baseline, current, delta, allowed, critical}),
#:   ``regressed`` (bool), ``critical_regressions`` (int), ``duration_ms`` (float),
#:   ``report`` (path of the JSON report | None).

#: ``prompt.label_moved`` (domain ``gateway``): a prompt label moved (promotion or rollback), in
#:   the same transaction as the move. ``prompt`` (str), ``label`` (str), ``action`` ("promote" |
#:   "rollback"), ``from_version`` (str | None: None on a label's first promotion), ``to_version``
#:   (str), ``actor`` ("<kind>:<name>"), ``reason`` (str), ``report_sha256`` (str | None: the eval
#:   report's SHA-256, None on rollback), ``report_summary`` ({metric: float} the version's
#:   thresholds named, None on rollback).
PROMPT_LABEL_MOVED = "prompt.label_moved"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict[str, Any]
    domain: str = ""
    occurred_at: datetime = field(default_factory=utcnow)
    id: int | None = None
    #: The W3C ``traceparent`` of the change that caused the event (charter.observability.propagation),
    #: so work it triggers later (a webhook delivery, a re-index) joins that trace; None outside a span.
    traceparent: str | None = None


def record(conn: sa.Connection, event: Event) -> Event:
    """Append ``event`` to the outbox inside the caller's transaction; return it with its id.

    The event keeps the trace context current at the call unless it names one itself."""
    from charter.observability.propagation import current_traceparent

    traceparent = event.traceparent or current_traceparent()
    result = conn.execute(
        sa.insert(events_table).values(
            type=event.type,
            domain=event.domain,
            payload=event.payload,
            occurred_at=event.occurred_at,
            traceparent=traceparent,
        )
    )
    pk = result.inserted_primary_key
    return Event(event.type, event.payload, event.domain, event.occurred_at, int(pk[0]) if pk else None, traceparent)


def since(conn: sa.Connection, after_id: int, types: Iterable[str] | None = None, limit: int = 500) -> list[Event]:
    """Events with an id greater than ``after_id``, oldest first."""
    q = sa.select(events_table).where(events_table.c.id > after_id).order_by(events_table.c.id).limit(limit)
    if types is not None:
        q = q.where(events_table.c.type.in_(list(types)))
    return [from_row(r) for r in conn.execute(q)]


def from_row(r: Any) -> Event:
    """An :class:`Event` from a row of the ``events`` table."""
    return Event(r.type, r.payload, r.domain or "", _aware(r.occurred_at), r.id, r.traceparent)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Subscriber = Callable[[Event], None]


class EventBus:
    """In-process fan-out of committed events. One per app instance, never global.

    Subscribers run synchronously in the thread that committed; they must be quick and must not
    raise (an exception is logged and swallowed so one bad subscriber cannot undo a commit).
    """

    def __init__(self) -> None:
        self._subscribers: list[tuple[frozenset[str] | None, Subscriber]] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber, types: Iterable[str] | None = None) -> None:
        with self._lock:
            self._subscribers.append((frozenset(types) if types is not None else None, fn))

    def unsubscribe(self, fn: Subscriber) -> None:
        """Stop calling ``fn`` (every subscription of it); unknown ``fn``: nothing happens."""
        with self._lock:
            self._subscribers = [(types, f) for types, f in self._subscribers if f != fn]

    def publish(self, events: Iterable[Event]) -> None:
        import structlog

        log = structlog.get_logger("charter.events")
        for event in events:
            for types, fn in list(self._subscribers):
                if types is None or event.type in types:
                    try:
                        fn(event)
                    except Exception:  # one subscriber must not break the others
                        log.exception("event_subscriber_failed", event_type=event.type)
