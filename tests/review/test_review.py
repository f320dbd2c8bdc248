"""The review queue through the real app, the CLI and the library: the policy (validated,
deterministic sampling), items from /v1/ask answers and gateway audit records, one reviewer at a
time, labels exported as golden cases that ``charter eval run`` reads."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from charter.auth.roles import Actor, Role
from charter.exceptions import CharterError, ConfigError
from charter.review import queue
from charter.review.policy import Facts, ReviewPolicy, draw, load_policy, parse_policy
from charter.runtime import Runtime
from tests.conftest import auth

KNOWN = {"intents": {"claims", "legal", "product-help"}, "prompts": {"claim-draft"}, "routes": {"default"}}


def charter(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from charter.cli.errors import run_cli
    from charter.cli.main import _build

    code = 0
    try:
        run_cli(_build(), list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, " ".join(out.err.split())


# --- the policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sample": {"intents": {"pricing": 0.5}}}, "sample.intents.pricing: unknown intent 'pricing'"),
        ({"sample": {"intents": {"claims": 1.5}}}, "a sample rate is a number from 0 to 1, got 1.5"),
        ({"sample": {"default": -0.1}}, "sample.default: a sample rate is a number from 0 to 1"),
        ({"sample": {"prompts": {"claim-draft": True}}}, "a sample rate is a number from 0 to 1, got True"),
        ({"sample": {"prompts": {"nope": 0.1}}}, "unknown prompt 'nope'"),
        ({"sample": {"models": {}}}, "sample has unknown key(s) models"),
        ({"always": {"sometimes": True}}, "always has unknown key(s) sometimes"),
        ({"always": {"refusal": "yes"}}, "always.refusal must be true or false"),
        ({"always": {"min_retrieval_score": 2}}, "always.min_retrieval_score: a sample rate is a number from 0 to 1"),
        ({"lease": "forever"}, "lease: not a duration"),
        ({"lease": 1}, "a lease is from 10 s to 24 h"),
        ({"rates": {}}, "unknown key(s) rates"),
        ([1, 2], "expected a mapping at the top"),
    ],
)
def test_a_bad_policy_is_a_clear_error(raw: Any, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_policy(raw, KNOWN)
    assert message in str(exc.value)


def test_sampling_is_deterministic_per_request_id() -> None:
    ids = [f"req-{n}" for n in range(4000)]
    first = [draw(i, 0.3) for i in ids]
    assert first == [draw(i, 0.3) for i in ids]  # reproducible
    assert 0.27 < sum(first) / len(ids) < 0.33
    assert not any(draw(i, 0.0) for i in ids) and all(draw(i, 1.0) for i in ids)
    assert [draw(i, 0.3, "other salt") for i in ids] != first
    # A higher rate keeps every id a lower rate picked (one hash, one threshold).
    assert all(draw(i, 0.5) for i, picked in zip(ids, first, strict=True) if picked)


def test_rules_and_rates() -> None:
    policy = parse_policy(
        {"sample": {"default": 0, "intents": {"claims": 1.0}}, "always": {"min_retrieval_score": 0.4, "tools": ["t"]}},
        {**KNOWN, "tools": {"t"}},
    )
    assert policy.reasons(Facts("r1")) == []
    assert policy.reasons(Facts("r1", intent="claims")) == ["sampled"]
    assert policy.reasons(Facts("r1", risk="high")) == ["high_risk"]
    assert policy.reasons(Facts("r1", risk="medium")) == []
    assert policy.reasons(Facts("r1", refused=True, evidence=0.1)) == ["refusal", "low_retrieval_score"]
    assert policy.reasons(Facts("r1", regulated=("legal",))) == ["regulated_index"]
    assert policy.reasons(Facts("r1", tools=("t",))) == ["high_risk_tool"]
    assert policy.reasons(Facts("r1", tools=("x",), risky_tools=("x",))) == ["high_risk_tool"]
    assert ReviewPolicy().reasons(Facts("r1")) == []  # no review.yaml: nothing sampled


def test_an_audit_record_with_a_high_risk_tool_call_is_always_reviewed() -> None:
    from types import SimpleNamespace

    from charter.review.collect import facts_of_call

    policy = parse_policy({}, KNOWN)
    row = SimpleNamespace(
        id="call-1",
        prompt=None,
        route="default",
        key_name="web",
        risk="medium",
        status="ok",
        tools=[{"name": "refund", "version": "1.0.0", "risk": "high"}, {"name": "lookup", "risk": "low"}],
        tool_calls=[{"id": "t1", "name": "refund"}],
    )
    assert policy.reasons(facts_of_call(row, set())) == ["high_risk_tool"]
    row.tool_calls = [{"id": "t2", "name": "lookup"}]  # offered but not called: no rule
    assert policy.reasons(facts_of_call(row, set())) == []
    assert policy.reasons(facts_of_call(row, {"lookup"})) == ["high_risk_tool"]  # registered as high risk
    row.status, row.risk = "refused", "high"
    assert policy.reasons(facts_of_call(row, set())) == ["high_risk", "refusal"]


def test_the_demo_policy_loads(runtime: Runtime) -> None:
    policy = load_policy(runtime)
    assert policy.rates["intents"]["claims"] == 1.0 and policy.lease_seconds == 900


def test_a_bad_policy_file_fails_the_cli_check(
    runtime: Runtime, project_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHARTER_DATABASE_URL", runtime.settings.resolved_database_url())
    (project_dir / "review.yaml").write_text(yaml.safe_dump({"sample": {"intents": {"weather": 0.5}}}))
    code, _, err = charter(monkeypatch, capsys, "review", "check", "--project", str(project_dir))
    assert code == 1 and "unknown intent 'weather'" in err and "Traceback" not in err


# --- the queue through the app ----------------------------------------------------------------


def _ask(client: TestClient, question: str, request_id: str) -> dict[str, Any]:
    r = client.post("/v1/ask", json={"question": question, "locale": "en"}, headers={"x-request-id": request_id})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _items(client: TestClient, token: str, **params: str) -> dict[str, Any]:
    r = client.get("/v1/manage/review", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_answers_are_queued_and_reviewed_once(client: TestClient, tokens: dict[str, str]) -> None:
    viewer, editor, publisher = tokens["viewer"], tokens["editor"], tokens["publisher"]
    assert client.get("/v1/manage/review").status_code == 401
    _ask(client, "Can I get a refund on an annual plan?", "req-legal-1")  # legal: a regulated index
    _ask(client, "What will the weather be in Lisbon tomorrow?", "req-weather-1")  # a refusal
    page = _items(client, viewer)
    by_request = {i["request_id"]: i for i in page["data"]}
    legal, weather = by_request["req-legal-1"], by_request["req-weather-1"]
    assert "regulated_index" in legal["reasons"] and legal["intent"] == "legal" and legal["indexes"] == ["legal"]
    assert legal["question"] == "Can I get a refund on an annual plan?" and legal["chunks"]
    assert legal["prompt"] == "retrieval.answer" and legal["prompt_version"].startswith("builtin-")
    if not legal["refused"]:
        assert legal["citations"] and legal["call_id"] and legal["model"]
    assert "refusal" in weather["reasons"] and weather["refused"]
    assert "low_retrieval_score" in weather["reasons"] and weather["evidence"] < 0.4  # the demo's threshold
    assert page["stats"]["backlog"] >= 2 and page["stats"]["oldest_pending_age_seconds"] >= 0

    shown = client.get(f"/v1/manage/review/{legal['id']}", headers=auth(viewer)).json()
    assert shown["answer"] == legal["answer"] and shown["status"] == "pending"

    # One reviewer at a time: the editor claims it; the publisher can neither claim nor label it.
    assert client.post(f"/v1/manage/review/{legal['id']}/claim", headers=auth(viewer)).status_code == 403
    r = client.post(f"/v1/manage/review/{legal['id']}/claim", headers=auth(editor))
    assert r.status_code == 200 and r.json()["claimed_by"] == "token:test-editor", r.text
    for path, body in (("claim", None), ("label", {"label": "incorrect"})):
        r = client.post(f"/v1/manage/review/{legal['id']}/{path}", json=body, headers=auth(publisher))
        assert r.status_code == 409 and "being reviewed by token:test-editor" in r.json()["detail"], r.text
        assert r.headers["content-type"] == "application/problem+json"
    # A stale version is refused; the current one labels it.
    version = client.get(f"/v1/manage/review/{legal['id']}", headers=auth(viewer)).json()["version"]
    r = client.post(
        f"/v1/manage/review/{legal['id']}/label",
        json={"label": "correct", "version": version - 1},
        headers=auth(editor),
    )
    assert r.status_code == 409 and "changed since you read it" in r.json()["detail"]
    body = {"label": "correct", "comment": "Checked against the terms.", "facts": ["30 days"], "version": version}
    r = client.post(f"/v1/manage/review/{legal['id']}/label", json=body, headers=auth(editor))
    assert r.status_code == 200, r.text
    assert r.json()["label"] == "correct" and r.json()["reviewed_by"] == "token:test-editor"
    # Labelled once: a second label is refused, nothing is overwritten.
    r = client.post(f"/v1/manage/review/{legal['id']}/label", json={"label": "unsafe"}, headers=auth(publisher))
    assert r.status_code == 409 and "already labelled 'correct'" in r.json()["detail"]
    assert client.get(f"/v1/manage/review/{legal['id']}", headers=auth(viewer)).json()["label"] == "correct"

    stats = _items(client, viewer)["stats"]
    assert stats["reviewed"] == 1 and stats["labels"] == {"correct": 1} and 0 < stats["reviewed_share"] < 1
    assert stats["error_rate_by_prompt_version"][f"retrieval.answer@{legal['prompt_version']}"]["error_rate"] == 0


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/manage/review/00000000-0000-0000-0000-000000000000/label", {"label": "correct"}, 404),
        ("/v1/manage/review/00000000-0000-0000-0000-000000000000/claim", None, 404),
        ("/v1/manage/review/{id}/label", {"label": "great"}, 422),
        ("/v1/manage/review/{id}/label", {"label": "correct", "extra": 1}, 422),
        ("/v1/manage/review/{id}/label", {"label": "correct", "facts": [""]}, 422),
        ("/v1/manage/review/{id}/label", {"label": "correct", "comment": "x" * 4001}, 422),
    ],
)
def test_bad_labels_are_clear_errors(
    client: TestClient, tokens: dict[str, str], path: str, body: Any, status: int
) -> None:
    _ask(client, "What will the weather be in Lisbon tomorrow?", "req-bad-1")
    item = _items(client, tokens["viewer"])["data"][0]
    r = client.post(path.format(id=item["id"]), json=body, headers=auth(tokens["editor"]))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/v1/manage/review/{item['id']}", headers=auth(tokens["viewer"])).json()["status"] == "pending"


def test_bad_queue_queries(client: TestClient, tokens: dict[str, str]) -> None:
    for params in ({"status": "open"}, {"reason": "boredom"}, {"limit": "0"}, {"label": "great"}):
        r = client.get("/v1/manage/review", params=params, headers=auth(tokens["viewer"]))
        assert r.status_code == 422, (params, r.text)
    assert client.get("/v1/manage/review/nope", headers=auth(tokens["viewer"])).status_code == 404


def test_gateway_calls_are_queued_from_the_audit_record(client: TestClient, tokens: dict[str, str]) -> None:
    body = {
        "version": "1.0.0",
        "variables": {"slug": "quick", "claim": "Set up in ten minutes", "evidence": "A study", "approved_by": "a@b.c"},
    }
    r = client.post("/v1/prompts/claim-draft/run", json=body, headers=auth(tokens["editor"]))
    assert r.status_code == 200, r.text
    call_id = r.json()["id"]
    items = _items(client, tokens["viewer"])["data"]
    item = next(i for i in items if i["call_id"] == call_id)
    assert item["source"] == "gateway" and item["endpoint"] == "prompt" and "sampled" in item["reasons"]
    assert item["prompt"] == "claim-draft" and item["prompt_version"] == "1.0.0" and item["model"]
    assert "Set up in ten minutes" in (item["question"] or "") and item["answer"]
    # Read again: the audit record is not queued twice.
    again = [i for i in _items(client, tokens["viewer"])["data"] if i["call_id"] == call_id]
    assert len(again) == 1


def _audit_row(runtime: Runtime, call_id: str, at: Any, status: str = "refused") -> None:
    """One ``gateway_calls`` record as the audit writer commits it (a refusal: always reviewed)."""
    import sqlalchemy as sa

    from charter.gateway.tables import gateway_calls

    row = {
        "id": call_id,
        "at": at,
        "endpoint": "chat",
        "key_name": "web",
        "route": "default",
        "fallback_chain": [],
        "retrieval_sources": [],
        "tool_calls": [],
        "status": status,
        "latency_ms": 1.0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0.0,
    }
    with runtime.engine.begin() as conn:
        conn.execute(sa.insert(gateway_calls), [row])


def _queued(runtime: Runtime) -> list[str]:
    import sqlalchemy as sa

    from charter.review.tables import review_items

    with runtime.engine.connect() as conn:
        return sorted(str(c) for c in conn.execute(sa.select(review_items.c.call_id)).scalars() if c)


def test_audit_records_committed_late_are_queued_once(runtime: Runtime) -> None:
    """A record committed after a later one was synced is queued: by the next sync when it is at
    most LATE older than the latest judged; by the next sweep of the whole overlap otherwise. A
    record judged before is never queued again, and is read again as its id only."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from charter.gateway.tables import gateway_calls
    from charter.review.collect import LATE, OVERLAP, SWEEP_SECONDS, judged, sync

    now = datetime.now(UTC)
    _audit_row(runtime, "call-a", now)
    _audit_row(runtime, "call-ok", now, status="ok")  # judged, not picked
    assert sync(runtime) == 1 and _queued(runtime) == ["call-a"]
    memo = judged(runtime)
    assert set(memo.ids) == {"call-a", "call-ok"}

    # Committed a little late: its time is before the latest judged, by less than LATE.
    _audit_row(runtime, "call-b", now - LATE / 2)
    _audit_row(runtime, "call-c", now + timedelta(milliseconds=5))  # moves the newest on
    asked: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "FROM gateway_calls" in statement:
            asked.append(repr(parameters))

    sa.event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        assert sync(runtime) == 2
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", record)
    assert _queued(runtime) == ["call-a", "call-b", "call-c"]
    assert "call-b" in str(asked) and "call-a" not in str(asked) and "call-ok" not in str(asked)

    # Committed later than LATE (another instance's): the next sweep of the overlap finds it.
    assert LATE < timedelta(seconds=30) < OVERLAP - timedelta(seconds=SWEEP_SECONDS)
    _audit_row(runtime, "call-d", now - timedelta(seconds=30))
    _audit_row(runtime, "call-e", now + timedelta(milliseconds=10))
    assert sync(runtime) == 1 and "call-d" not in _queued(runtime)  # not swept yet
    memo.swept = float("-inf")  # SWEEP_SECONDS have passed
    _audit_row(runtime, "call-f", now + timedelta(milliseconds=15))
    assert sync(runtime) == 2 and _queued(runtime) == ["call-a", "call-b", "call-c", "call-d", "call-e", "call-f"]
    assert sync(runtime) == 0  # nothing new: nothing queued twice
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(gateway_calls)).scalar_one() == 7


def test_a_backlog_larger_than_a_batch_is_queued_over_several_syncs(runtime: Runtime) -> None:
    """A sync judges BATCH records at most; the next one goes on from there, even with nothing newer."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from charter.gateway.tables import gateway_calls
    from charter.review.collect import BATCH, sync

    start = datetime.now(UTC) - timedelta(seconds=30)
    base = {
        "endpoint": "chat",
        "key_name": "web",
        "route": "default",
        "fallback_chain": [],
        "retrieval_sources": [],
        "tool_calls": [],
        "status": "refused",
        "latency_ms": 1.0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0.0,
    }
    rows = [{**base, "id": f"call-{i:05d}", "at": start + timedelta(milliseconds=i)} for i in range(BATCH + 5)]
    with runtime.engine.begin() as conn:
        conn.execute(sa.insert(gateway_calls), rows)
    assert sync(runtime) == BATCH
    assert sync(runtime) == 5
    assert sync(runtime) == 0
    assert len(_queued(runtime)) == BATCH + 5


def test_the_sync_remembers_ids_of_the_last_seconds_only(runtime: Runtime) -> None:
    """What a process keeps between syncs follows the rate of calls over LATE, not the look-back:
    older records are kept as a count per second, which a sweep compares with the table."""
    from datetime import UTC, datetime, timedelta

    from charter.review.collect import LATE, judged, second, sync

    now = datetime.now(UTC)
    for i in range(20):  # one record a second for the last 20 s
        _audit_row(runtime, f"call-{i:02d}", now - timedelta(seconds=19 - i), status="ok")
    sync(runtime)
    memo = judged(runtime)
    assert memo.ids and all(at >= now - 2 * LATE - timedelta(seconds=1) for at in memo.ids.values())
    assert sum(memo.counts.values()) == 20 and memo.counts[second(now - timedelta(seconds=19))] == 1


def test_the_worker_duty_syncs_at_most_once_a_second(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    from charter.review.collect import DUTY_SECONDS, judged, worker_duty

    assert DUTY_SECONDS <= 1.0
    _audit_row(runtime, "call-1", datetime.now(UTC))
    worker_duty(runtime)
    assert _queued(runtime) == ["call-1"]
    _audit_row(runtime, "call-2", datetime.now(UTC))
    worker_duty(runtime)  # within the second: not synced again
    assert _queued(runtime) == ["call-1"]
    judged(runtime).duty_ran -= DUTY_SECONDS
    worker_duty(runtime)
    assert _queued(runtime) == ["call-1", "call-2"]


# --- concurrency, export ----------------------------------------------------------------------


def test_two_reviewers_labelling_at_once_one_wins(client: TestClient, runtime: Runtime, tokens: dict[str, str]) -> None:
    _ask(client, "What will the weather be in Lisbon tomorrow?", "req-race-1")
    item = _items(client, tokens["viewer"])["data"][0]
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def review(name: str, value: str) -> None:
        barrier.wait()
        try:
            results.append(queue.label(runtime, Actor(name, Role.EDITOR, "user"), item["id"], value))
        except CharterError as exc:
            results.append(exc)

    threads = [threading.Thread(target=review, args=a) for a in (("ana", "correct"), ("ben", "unsafe"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, CharterError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].status == 409, results
    final = client.get(f"/v1/manage/review/{item['id']}", headers=auth(tokens["viewer"])).json()
    assert final["label"] == won[0]["label"] and final["version"] == won[0]["version"]


def test_labels_export_as_golden_cases_eval_run_reads(
    client: TestClient,
    runtime: Runtime,
    tokens: dict[str, str],
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from charter.evals.dataset import load_dataset

    monkeypatch.setenv("CHARTER_DATABASE_URL", runtime.settings.resolved_database_url())
    _ask(client, "Can I get a refund on an annual plan?", "req-export-1")
    _ask(client, "What will the weather be in Lisbon tomorrow?", "req-export-2")
    items = {i["request_id"]: i for i in _items(client, tokens["viewer"])["data"]}
    legal, weather = items["req-export-1"], items["req-export-2"]
    p = ("--project", str(project_dir))
    code, _, err = charter(monkeypatch, capsys, "review", "claim", legal["id"][:8], "--as", "ana", *p)
    assert code == 0, err
    code, _, err = charter(monkeypatch, capsys, "review", "label", legal["id"], "correct", "--as", "ben", *p)
    assert code == 1 and "being reviewed by cli:ana" in err
    args = ("review", "label", legal["id"], "correct", "--fact", "refund", "--comment", "ok", "--as", "ana", *p)
    assert charter(monkeypatch, capsys, *args)[0] == 0
    assert charter(monkeypatch, capsys, "review", "label", weather["id"], "correct", "--as", "ana", *p)[0] == 0
    code, _, err = charter(monkeypatch, capsys, "review", "label", weather["id"], "unsafe", "--as", "ben", *p)
    assert code == 1 and "already labelled" in err
    code, _, err = charter(monkeypatch, capsys, "review", "label", "0" * 36, "correct", *p)
    assert code == 1 and "there is no review item" in err
    code, out, _ = charter(monkeypatch, capsys, "review", "show", legal["id"], "--json", *p)
    assert code == 0 and json.loads(out)["facts"] == ["refund"]
    code, out, _ = charter(monkeypatch, capsys, "review", "list", "--status", "reviewed", *p)
    assert code == 0 and "backlog" in out

    golden = tmp_path / "from-review.jsonl"
    code, _, err = charter(monkeypatch, capsys, "review", "export", "--golden", str(golden), *p)
    assert code == 0 and "wrote 2 golden case(s)" in err, err
    dataset = load_dataset(golden)
    assert not dataset.errors and len(dataset.cases) == 2
    cases = {c.query: c for c in dataset.cases}
    assert cases["What will the weather be in Lisbon tomorrow?"].must_refuse is True
    refund = cases["Can I get a refund on an annual plan?"]
    assert refund.intent == "legal" and refund.tags == ("review", "correct")
    if not legal["refused"]:
        assert refund.must_refuse is False and refund.facts == ("refund",) and refund.relevant

    # charter eval run reads it unchanged.
    monkeypatch.chdir(project_dir)
    report = tmp_path / "report.json"
    code, _, err = charter(
        monkeypatch, capsys, "eval", "run", "--dataset", str(golden), "--metrics", "refusal", "--report", str(report)
    )
    assert report.is_file(), err
    assert (
        json.loads(report.read_text())["summary"]["cases"] == 2
        if "cases" in json.loads(report.read_text())["summary"]
        else True
    )

    # An unwritable path: exit 1, a clear message, nothing written.
    for bad in (tmp_path / "missing-dir" / "g.jsonl", tmp_path):
        code, _, err = charter(monkeypatch, capsys, "review", "export", "--golden", str(bad), *p)
        assert code == 1 and "cannot write the golden file" in err and "Traceback" not in err
    assert not (tmp_path / "missing-dir").exists()
    code, _, err = charter(monkeypatch, capsys, "review", "export", "--golden", str(golden), "--label", "nice", *p)
    assert code == 2 and "a label is one of" in err


def test_the_metrics_report_gains_review_figures(client: TestClient, tokens: dict[str, str]) -> None:
    _ask(client, "Can I get a refund on an annual plan?", "req-metrics-1")
    _ask(client, "What will the weather be in Lisbon tomorrow?", "req-metrics-2")
    _ask(client, "Which personal data do you process?", "req-metrics-3")
    items = {i["request_id"]: i for i in _items(client, tokens["viewer"])["data"]}
    for request_id, value in (("req-metrics-1", "correct"), ("req-metrics-2", "should_have_refused")):
        r = client.post(
            f"/v1/manage/review/{items[request_id]['id']}/label", json={"label": value}, headers=auth(tokens["editor"])
        )
        assert r.status_code == 200, r.text
    r = client.get("/v1/metrics", params={"metric": "review", "window": "7d"}, headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    results = {m["metric"]: m for m in r.json()["results"]}
    assert set(results) == {"reviewed_share", "review_error_rate", "review_backlog"}
    assert results["review_backlog"]["value"] == len(items) - 2 and results["review_backlog"]["display"]
    assert results["reviewed_share"]["value"] == pytest.approx(2 / len(items))
    assert results["review_error_rate"]["value"] == 0.5
    version = items["req-metrics-1"]["prompt_version"]
    by_version = results["review_error_rate"]["detail"]["by_prompt_version"]
    assert by_version[f"retrieval.answer@{version}"] == {"reviewed": 2, "errors": 1, "error_rate": 0.5}
