"""A generated delivery history whose metrics are known by construction.

A real git repository (commit dates set through GIT_COMMITTER_DATE) and an event log written
through the real actions. The expected values are worked out by hand in ``EXPECTED``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from charter import events as ev
from charter.auth.roles import SYSTEM
from charter.metrics.deploys import DeployIn, IncidentIn, record_deploy, record_incident
from charter.runtime import Runtime

H = 3600.0


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class GitRepo:
    path: Path
    shas: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, path: Path) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", "main")
        return repo

    def git(self, *args: str, when: datetime | None = None) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_SYSTEM": "/dev/null",
        }
        if when is not None:
            stamp = f"{int(when.timestamp())} +0000"
            env["GIT_AUTHOR_DATE"] = stamp
            env["GIT_COMMITTER_DATE"] = stamp
        return subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, name: str, when: datetime) -> str:
        (self.path / f"{name}.txt").write_text(name, encoding="utf-8")
        self.git("add", f"{name}.txt")
        self.git("commit", "-q", "-m", name, when=when)
        self.shas[name] = self.git("rev-parse", "HEAD")
        return self.shas[name]


#: name -> committer time. c8 is committed *after* the deployment that ships it (clock skew).
COMMITS = {
    "c1": t("2025-01-06T08:00:00"),
    "c2": t("2025-01-06T10:00:00"),
    "c3": t("2025-01-07T09:00:00"),
    "c4": t("2025-01-08T12:00:00"),
    "c5": t("2025-01-09T09:00:00"),
    "c6": t("2025-01-09T11:00:00"),
    "c7": t("2025-01-10T07:00:00"),
    "c9": t("2025-01-13T10:00:00"),
    "c8": t("2025-01-14T11:00:00"),
}

WEEK1 = "2025-01-06T00:00:00Z..2025-01-13T00:00:00Z"
WEEK2 = "2025-W03"
WEEK3 = "2025-W04"  # no deployments
BEFORE = "2024-12"  # before anything was deployed

#: (metric, window) -> expected value. Worked out by hand from the history below.
EXPECTED: dict[tuple[str, str], float | None] = {
    # week 1: d1..d5 (d4 failed itself, d2 caused incident i1 and was remediated by hotfix d3)
    ("deployment_frequency", WEEK1): 5 / 7,
    ("change_fail_rate", WEEK1): 2 / 5,
    ("deployment_rework_rate", WEEK1): 1 / 5,
    # d2: deployed 01-08 14:00, hotfix d3 at 01-09 12:00 (before i1 was resolved at 12:30) -> 22 h;
    # d4: failed 01-10 09:00, next successful deployment d5 at 10:00 -> 1 h. Median of 22 h and 1 h.
    ("failed_deployment_recovery_time", WEEK1): (22 * H + 1 * H) / 2,
    # commits: c2 2 h (first deployment: its own commit only; c1 never counts), c3 29 h, c4 2 h,
    # c5 3 h, c6 1 h, c7 3 h (d4 failed, so c7 is first deployed by d5). Median of 1,2,2,3,3,29 h.
    ("change_lead_time", WEEK1): 2.5 * H,
    # built_at -> deployed_at of successful deployments: d1 1 h, d2 1 h, d3 0.5 h, d5 2 h.
    ("build_to_deploy_lead_time", WEEK1): 1 * H,
    # week 2: d6 only: c9 24 h, c8 skewed (left out)
    ("deployment_frequency", WEEK2): 1 / 7,
    ("change_fail_rate", WEEK2): 0.0,
    ("deployment_rework_rate", WEEK2): 0.0,
    ("failed_deployment_recovery_time", WEEK2): None,
    ("change_lead_time", WEEK2): 24 * H,
    ("build_to_deploy_lead_time", WEEK2): None,  # d6 has no built_at
    # week 3: nothing deployed, but the service is known: a frequency of 0, no rates
    ("deployment_frequency", WEEK3): 0.0,
    ("change_fail_rate", WEEK3): None,
    ("deployment_rework_rate", WEEK3): None,
    ("failed_deployment_recovery_time", WEEK3): None,
    ("change_lead_time", WEEK3): None,
    ("build_to_deploy_lead_time", WEEK3): None,
    ("deployment_frequency", BEFORE): None,
    # maintainability, week 1
    ("schema_break_rate", WEEK1): 1 / (7 / (365.25 / 4)),
    ("schema_break_rate", "2025-Q1"): 1.0,
    ("schema_break_rate", "2025"): 0.25,
    # r1 0 (fixed, re-evaluated), r2 1, support-answer@1.3.0 0, support-answer@1.4.0 1: 2 / 4 releases
    ("llm_eval_regression_rate", WEEK1): 0.5,
    ("token_divergence", WEEK1): 0.075,
    ("rag_freshness_lag", WEEK1): 19.0,
    ("schema_break_rate", WEEK3): 0.0,
    ("llm_eval_regression_rate", WEEK3): None,
    ("token_divergence", WEEK3): None,
    ("rag_freshness_lag", WEEK3): None,
}

EXPECTED_STATUS = {
    ("schema_break_rate", WEEK1): "breach",
    ("schema_break_rate", "2025-Q1"): "breach",
    ("schema_break_rate", "2025"): "ok",
    ("schema_break_rate", WEEK3): "ok",
    ("llm_eval_regression_rate", WEEK1): "breach",
    ("build_to_deploy_lead_time", WEEK1): "ok",
    ("token_divergence", WEEK1): "breach",
    ("rag_freshness_lag", WEEK1): "ok",
    ("change_fail_rate", WEEK1): "info",
    ("llm_eval_regression_rate", WEEK3): "no_data",
}


def build_repo(path: Path) -> GitRepo:
    repo = GitRepo.create(path)
    for name, when in COMMITS.items():
        repo.commit(name, when)
    return repo


def deploy(rt: Runtime, **fields: object) -> str:
    out = record_deploy(rt, SYSTEM, DeployIn.model_validate(fields))
    return out.deploy_id


def record_history(rt: Runtime, repo: GitRepo) -> None:
    sha = repo.shas
    deploy(
        rt,
        deploy_id="d1",
        service="web",
        commit=sha["c2"],
        deployed_at="2025-01-06T12:00:00Z",
        built_at="2025-01-06T11:00:00Z",
    )
    deploy(
        rt,
        deploy_id="d2",
        service="web",
        commit=sha["c4"],
        deployed_at="2025-01-08T14:00:00Z",
        built_at="2025-01-08T13:00:00Z",
    )
    record_incident(
        rt, SYSTEM, IncidentIn(incident_id="i1", deploy_id="d2", started_at="2025-01-08T15:00:00Z", severity="sev2")
    )
    deploy(
        rt,
        deploy_id="d3",
        service="web",
        commit=sha["c6"],
        deployed_at="2025-01-09T12:00:00Z",
        built_at="2025-01-09T11:30:00Z",
        kind="hotfix",
        incident="i1",
        remediates=["d2"],
    )
    record_incident(rt, SYSTEM, IncidentIn(incident_id="i1", resolved_at="2025-01-09T12:30:00Z"))
    deploy(
        rt,
        deploy_id="d4",
        service="web",
        commit=sha["c7"],
        deployed_at="2025-01-10T09:00:00Z",
        built_at="2025-01-10T08:00:00Z",
        status="failed",
    )
    deploy(
        rt,
        deploy_id="d5",
        service="web",
        commit=sha["c7"],
        deployed_at="2025-01-10T10:00:00Z",
        built_at="2025-01-10T08:00:00Z",
    )
    deploy(rt, deploy_id="d6", service="web", commit=sha["c8"], deployed_at="2025-01-14T10:00:00Z")
    # staging is not production: DORA leaves it out
    deploy(
        rt, deploy_id="s1", service="web", environment="staging", commit=sha["c1"], deployed_at="2025-01-07T10:00:00Z"
    )
    with rt.write() as (conn, pending):

        def add(event_type: str, payload: dict[str, object], when: datetime, domain: str = "") -> None:
            pending.append(ev.record(conn, ev.Event(event_type, payload, domain=domain, occurred_at=when)))

        base = t("2025-01-07T00:00:00")
        for i, name in enumerate(["page", "pricing-plan", "doc"]):
            add(
                ev.SCHEMA_RELEASED,
                {"name": name, "schema_id": f"{name}.v1", "version": "1.1.0"},
                base + timedelta(hours=i),
                "marketing",
            )
        add(ev.SCHEMA_RELEASED, {"name": "legal-text", "version": "1.0.1"}, base, "legal")
        add(
            ev.SCHEMA_BREAKING_CHANGE,
            {"content_type": "page", "schema_id": "page.v2", "version": "2.0.0", "previous_version": "1.1.0"},
            base + timedelta(hours=5),
            "marketing",
        )
        # evals: r1 regressed, was fixed and re-evaluated; r2 ships one critical regression
        add(
            ev.EVAL_COMPLETED,
            {"release": "r1", "suite": "a", "regressions": [{"metric": "f", "severity": "critical"}]},
            base,
            "evals",
        )
        add(ev.EVAL_COMPLETED, {"release": "r1", "suite": "a", "regressions": []}, base + timedelta(hours=1), "evals")
        add(
            ev.EVAL_COMPLETED,
            {
                "release": "r2",
                "suite": "a",
                "regressions": [
                    {"metric": "faithfulness", "severity": "critical"},
                    {"metric": "latency", "severity": "warning"},
                ],
            },
            base + timedelta(hours=2),
            "evals",
        )
        add(ev.EVAL_COMPLETED, {"release": "r2", "suite": "b", "regressions": []}, base + timedelta(hours=2), "evals")
        # the eval runner's own shape: prompt@prompt_version, dataset as the suite, critical flags
        add(
            ev.EVAL_COMPLETED,
            {
                "prompt": "support-answer",
                "prompt_version": "1.3.0",
                "dataset": "eval/golden.jsonl",
                "regressions": [{"metric": "recall@5", "critical": False, "status": "regressed"}],
                "critical_regressions": 0,
            },
            base + timedelta(hours=2),
            "evals",
        )
        add(
            ev.EVAL_COMPLETED,
            {
                "prompt": "support-answer",
                "prompt_version": "1.4.0",
                "dataset": "eval/golden.jsonl",
                "regressions": [{"metric": "faithfulness", "critical": True, "status": "regressed"}],
                "critical_regressions": 1,
            },
            base + timedelta(hours=2),
            "evals",
        )
        add(ev.EVAL_COMPLETED, {"suite": "a", "summary": {}}, base + timedelta(hours=3), "evals")  # no release: noted
        # token divergence: the latest scan per app counts
        add(
            ev.TOKENS_DIVERGENCE,
            {
                "apps": [
                    {"name": "web", "percent": 3.0, "divergent": 3, "counted": 100},
                    {"name": "shop", "percent": 7.5, "divergent": 15, "counted": 200},
                ]
            },
            base,
            "tokens",
        )
        add(
            ev.TOKENS_DIVERGENCE,
            {"apps": [{"name": "web", "percent": 4.0, "divergent": 4, "counted": 100}]},
            base + timedelta(days=1),
            "tokens",
        )
        # RAG freshness: lags of 1..20 s -> nearest-rank p95 is 19 s
        for i in range(1, 21):
            add(
                ev.INDEX_UPDATED,
                {"index": "docs" if i % 2 else "faq", "lag_ms": i * 1000},
                base + timedelta(minutes=i),
                "retrieval",
            )
