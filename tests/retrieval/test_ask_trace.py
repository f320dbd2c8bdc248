"""One ``/v1/ask`` trace: route -> retrieve (each index) -> model (GenAI conventions) -> answer,
with the prompt version and the sources as attributes and no raw prompt text; the gateway's
audit record and the log lines carry its trace id; the operators' metrics and the Grafana
dashboard name the same series."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from charter.app import create_app
from charter.gateway import get_gateway
from charter.gateway.tables import gateway_calls
from charter.runtime import Runtime

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
QUESTION = "Can I get a refund on an annual plan?"
DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as c:
        yield c


def _spans(rt: Runtime) -> list[Any]:
    exporter = rt.telemetry.exporter
    assert isinstance(exporter, InMemorySpanExporter)
    return list(exporter.get_finished_spans())


def test_one_ask_is_one_trace_route_retrieve_model_answer(client: TestClient, rt: Runtime) -> None:
    r = client.post("/v1/ask", json={"question": QUESTION, "locale": "en"}, headers={"traceparent": PARENT})
    assert r.status_code == 200 and not r.json()["refused"], r.text
    spans = [s for s in _spans(rt) if format(s.context.trace_id, "032x") == TRACE]
    by_name = {s.name: s for s in spans}
    server = by_name["POST /v1/ask"]
    route, search, answer = by_name["retrieval.route"], by_name["retrieval.search"], by_name["retrieval.answer"]
    for child in (route, search, answer):
        assert child.parent is not None and child.parent.span_id == server.context.span_id
    # In the order a reader expects: route, then retrieve, then the model inside the answer.
    assert route.start_time <= search.start_time <= answer.start_time
    assert route.attributes["charter.retrieval.intent"] == "legal"
    assert route.attributes["charter.retrieval.indexes"] == ("legal",)
    legal = by_name["retrieval.search legal"]
    assert legal.parent.span_id == search.context.span_id
    assert legal.attributes["charter.retrieval.method"] == "bm25" and legal.attributes["charter.retrieval.hits"] > 0
    model = next(s for s in spans if s.name.startswith("chat "))
    assert model.parent.span_id == answer.context.span_id
    a = model.attributes
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "charter.local"
    assert a["gen_ai.system"] == "charter.local"
    assert a["gen_ai.request.model"] == "extractive-v1" and a["gen_ai.response.model"]
    assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    # The demo answers with the registry prompt retrieval.yaml pins (prompts/answer.yaml).
    assert answer.attributes["charter.prompt.name"] == "answer"
    assert answer.attributes["charter.prompt.version"] == "1.0.0"
    sources = answer.attributes["charter.answer.sources"]
    assert sources and all("#" in s for s in sources)
    assert answer.attributes["charter.answer.refused"] is False
    # No raw prompt text anywhere unless the operator turns capture_content on.
    for s in spans:
        assert not any(QUESTION in str(v) for v in (s.attributes or {}).values()), s.name
    # The audit record names the trace.
    get_gateway(rt).audit.flush()
    with rt.read() as conn:
        [row] = conn.execute(sa.select(gateway_calls.c.trace_id).where(gateway_calls.c.endpoint == "ask")).all()
    assert row.trace_id == TRACE


def test_capture_content_records_redacted_messages(rt: Runtime, project_dir: Path, tmp_path: Path) -> None:
    from charter.config import load_settings
    from charter.demo import load_demo_content

    settings = load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'content.db'}",
        trace_exporter="memory",
        telemetry={"capture_content": True},
    )
    runtime = Runtime.open(settings)
    load_demo_content(runtime)
    try:
        with TestClient(create_app(settings, runtime=runtime)) as c:
            assert c.post("/v1/ask", json={"question": QUESTION}).status_code == 200
        model = next(s for s in _spans(runtime) if s.name.startswith("chat "))
        assert QUESTION in model.attributes["gen_ai.input.messages"]
        assert json.loads(model.attributes["gen_ai.output.messages"])[0]["role"] == "assistant"
    finally:
        runtime.close()


def test_log_lines_inside_a_span_carry_its_ids(
    client: TestClient, rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with rt.telemetry.tracer.start_as_current_span("work") as span:
        structlog.get_logger("charter.test").warning("inside")
    structlog.get_logger("charter.test").warning("outside")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    inside = next(line for line in lines if line["event"] == "inside")
    outside = next(line for line in lines if line["event"] == "outside")
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "trace_id" not in outside and "span_id" not in outside


def _exported(client: TestClient) -> dict[str, str]:
    """Every sample name /metrics can serve -> its family's type."""
    names: dict[str, str] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
        for suffix in suffixes.get(family.type, ("",)):
            names[family.name + suffix] = family.type
    return names


def test_operator_metrics_and_the_dashboard_name_the_same_series(client: TestClient) -> None:
    assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200
    client.get("/v1/pages/home")
    client.get("/v1/pages/home")  # a cache hit
    text = client.get("/metrics").text
    assert re.search(
        r'charter_gateway_requests_total\{model="local-extractive",provider="local",route="answer",status="ok"\} 1\.0',
        text,
    ), text
    assert re.search(r'charter_gateway_tokens_total\{.*token_type="input"\} [1-9]', text)
    assert re.search(r'charter_retrieval_search_duration_seconds_count\{index="legal",method="bm25"\} 1\.0', text)
    assert re.search(r'charter_delivery_cache_requests_total\{result="hit"\} [1-9]', text)
    assert 'charter_webhook_backlog{status="pending"} 0.0' in text
    exported = _exported(client)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert expressions, "the dashboard has no queries"
    used = {name for expr in expressions for name in re.findall(r"\bcharter_[a-z0-9_]+", expr)}
    missing = sorted(used - set(exported))
    assert not missing, f"the dashboard queries series /metrics does not export: {missing}"
    # And every operator series is on the dashboard.
    for family in ("charter_gateway_requests_total", "charter_gateway_cost_usd_total", "charter_webhook_backlog"):
        assert family in used
