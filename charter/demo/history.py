"""A plausible recent past for the demo, so the admin's overview and every metrics chart show what they
are for: six weeks of deploys of Lumen's web app (with their commits, one failed deploy, one incident
fixed by a hotfix), schema releases, evaluation runs of the support-answer prompt, design-token
divergence scans, retrieval index updates and human review labels, plus an editor's change to the
careers draft.

Deploys and incidents go through the real actions (:func:`charter.metrics.deploys.record_deploy`),
the other events through :func:`charter.events.record` with their past time, as a CI job would have
written them. The history is fixed (no randomness) and dated back from the moment it is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from charter import events as ev
from charter.auth.roles import Actor, Role
from charter.runtime import Runtime

#: Who did what in the demo's story.
CI = Actor(name="ci", role=Role.ADMIN, kind="token")
ANA = Actor(name="ana", role=Role.EDITOR, kind="user")

WEEKS = 6
#: (days ago, hours from build to deploy, commits in the deploy, status) of each production deploy.
DEPLOYS: list[tuple[float, float, int, str]] = [
    (41, 0.5, 3, "succeeded"),
    (38, 1.0, 2, "succeeded"),
    (35, 0.75, 4, "succeeded"),
    (33, 2.0, 1, "failed"),
    (32.9, 0.5, 1, "succeeded"),
    (29, 1.5, 5, "succeeded"),
    (26, 0.5, 2, "succeeded"),
    (22, 1.0, 3, "succeeded"),
    (19, 0.5, 2, "succeeded"),  # causes the incident below
    (15, 1.0, 4, "succeeded"),
    (12, 0.75, 2, "succeeded"),
    (8, 0.5, 3, "succeeded"),
    (5, 1.25, 2, "succeeded"),
    (2, 0.5, 1, "succeeded"),
]
INCIDENT_DEPLOY = 8  # index in DEPLOYS


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _sha(n: int) -> str:
    return f"{(n * 2654435761) % 16**12:012x}{n:04x}"


def record_demo_history(rt: Runtime, now: datetime | None = None) -> None:
    """Write the demo's past into a fresh demo store (``charter serve --demo`` calls it once, right
    after the demo content was loaded)."""
    now = now or ev.utcnow()
    _deploys(rt, now)
    _events(rt, now)
    _careers_draft(rt)


def _deploys(rt: Runtime, now: datetime) -> None:
    from charter.metrics.deploys import DeployIn, IncidentIn, record_deploy, record_incident

    commit = 0
    for i, (days, build_hours, commits, status) in enumerate(DEPLOYS):
        deployed = now - timedelta(days=days)
        changes = []
        for c in range(commits):
            commit += 1
            changes.append({"sha": _sha(commit), "committed_at": _iso(deployed - timedelta(hours=3 + 7 * c))})
        deploy: dict[str, Any] = {
            "deploy_id": f"lumen-web-{i + 1}",
            "service": "lumen-web",
            "commit": changes[-1]["sha"],
            "changes": changes,
            "deployed_at": _iso(deployed),
            "built_at": _iso(deployed - timedelta(hours=build_hours)),
            "status": status,
        }
        if i > 0 and DEPLOYS[i - 1][3] == "failed":
            deploy["kind"] = "hotfix"
        record_deploy(rt, CI, DeployIn.model_validate(deploy))
        if i == INCIDENT_DEPLOY:
            started = deployed + timedelta(hours=2)
            record_incident(
                rt,
                CI,
                IncidentIn(
                    incident_id="lumen-inc-1",
                    deploy_id=deploy["deploy_id"],
                    started_at=_iso(started),
                    severity="sev2",
                    summary="Dashboards load slowly after the query-planner change",
                ),
            )
            fix = {
                "deploy_id": f"lumen-web-{i + 1}-hotfix",
                "service": "lumen-web",
                "commit": _sha(commit + 1000),
                "changes": [{"sha": _sha(commit + 1000), "committed_at": _iso(started + timedelta(hours=1))}],
                "deployed_at": _iso(started + timedelta(hours=3)),
                "built_at": _iso(started + timedelta(hours=2.5)),
                "kind": "hotfix",
                "incident": "lumen-inc-1",
                "remediates": [deploy["deploy_id"]],
            }
            record_deploy(rt, CI, DeployIn.model_validate(fix))
            record_incident(
                rt, CI, IncidentIn(incident_id="lumen-inc-1", resolved_at=_iso(started + timedelta(hours=3.5)))
            )


def _events(rt: Runtime, now: datetime) -> None:
    with rt.write() as (conn, pending):

        def add(event_type: str, payload: dict[str, Any], days_ago: float, domain: str) -> None:
            when = now - timedelta(days=days_ago)
            pending.append(ev.record(conn, ev.Event(event_type, payload, domain=domain, occurred_at=when)))

        for days, name, version in [
            (40, "doc", "1.1.0"),
            (34, "page", "1.1.0"),
            (27, "pricing-plan", "1.0.1"),
            (20, "marketing-claim", "1.1.0"),
            (13, "page", "1.2.0"),
            (6, "doc", "1.2.0"),
        ]:
            add(ev.SCHEMA_RELEASED, {"name": name, "schema_id": f"{name}.v1", "version": version}, days, "marketing")
        for week, version in enumerate(["1.0.0", "1.1.0", "1.1.1", "1.2.0", "1.2.1", "1.3.0"]):
            regressions = [{"metric": "recall@5", "critical": False, "status": "regressed"}] if week == 3 else []
            payload: dict[str, Any] = {
                "prompt": "support-answer",
                "prompt_version": version,
                "dataset": "eval/golden.jsonl",
                "regressions": regressions,
                "critical_regressions": 0,
            }
            add(ev.EVAL_COMPLETED, payload, 7 * (WEEKS - week) - 3, "evals")
        for week in range(WEEKS):
            web, shop = 6.0 - 0.7 * week, 4.5 - 0.4 * week
            apps = [
                {"name": "lumen-web", "percent": round(web, 1), "divergent": round(web * 4), "counted": 400},
                {"name": "lumen-shop", "percent": round(shop, 1), "divergent": round(shop * 2), "counted": 200},
            ]
            add(ev.TOKENS_DIVERGENCE, {"apps": apps}, 7 * (WEEKS - week) - 1, "tokens")
        for day in range(7 * WEEKS):
            for n in range(3):
                lag = 120 + 40 * ((day * 3 + n) % 7)
                index = "docs" if n % 2 == 0 else "faq"
                add(ev.INDEX_UPDATED, {"index": index, "lag_ms": lag}, 7 * WEEKS - day - n / 4, "retrieval")
        # Human review: three answers a day picked for review, most labelled within a day, fewer
        # errors once support-answer 1.2.0 replaced 1.1.1 (the figures only: the queue starts empty).
        labels = ("correct", "correct", "incorrect", "correct", "should_have_refused", "correct", "citation_wrong")
        for day in range(7 * WEEKS):
            version = "1.1.1" if day < 7 * WEEKS // 2 else "1.2.0"
            for n in range(3):
                item = f"demo-review-{day:02d}-{n}"
                queued = 7 * WEEKS - day - n / 3
                meta = {"prompt": "support-answer", "prompt_version": version}
                reasons = ["sampled"] if n else ["regulated_index"]
                queued_payload = {"item_id": item, "source": "ask", "call_id": None, "reasons": reasons, "intent": None}
                add(ev.REVIEW_QUEUED, {**queued_payload, **meta}, queued, "review")
                if day >= 7 * WEEKS - 2 and n:
                    continue  # the last two days' samples still wait
                if version == "1.1.1":
                    label = labels[(day + n) % len(labels)]
                else:
                    label = "incorrect" if (day + n) % 10 == 0 else "correct"
                queued_at = _iso(now - timedelta(days=queued))
                done = {"item_id": item, "label": label, "reviewed_by": "user:ana", "queued_at": queued_at}
                add(ev.REVIEW_LABELLED, {**done, **meta}, queued - 0.5, "review")


def _careers_draft(rt: Runtime) -> None:
    """An editor's recent, unpublished change: the overview's latest change has a name."""
    from charter.content import store
    from charter.content.actions import update_entry

    with rt.read() as conn:
        found = [e for e in store.list_entries(conn, "page") if e.slug == "careers"]
        if not found:
            return
        entry = found[0]
        data = store.get_revision(conn, entry.id, entry.current_revision).data
    en = dict(data.get("en", {}))
    en["title"] = str(en.get("title", "Careers")) + " at Lumen"
    update_entry(rt, ANA, entry.id, {**data, "en": en}, if_match=entry.etag, message="Clearer title")
