"""The gateway's trace context and GenAI spans against a real upstream on loopback: the provider
receives the traceparent of the model call's span; the span follows the GenAI conventions; the
audit record keeps the trace id; failures are marked on the span; the metrics count the call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from charter.gateway import get_gateway
from charter.gateway.mock_upstream import MockUpstream
from charter.gateway.tables import gateway_calls
from charter.runtime import Runtime
from tests.gateway.conftest import provider, write_model_yaml

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE}-b7ad6b7169203331-01"


def _spans(rt: Runtime) -> list[Any]:
    exporter = rt.telemetry.exporter
    assert isinstance(exporter, InMemorySpanExporter)
    return list(exporter.get_finished_spans())


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_the_provider_gets_the_model_spans_trace_context(
    kind: str,
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up = upstreams("ok")
    monkeypatch.setenv("TEST_KEY", "sk-test-upstream-secret-0123456789")
    write_model_yaml(
        gw_project,
        providers={"up": provider(up, kind, api_key_env="TEST_KEY")},
        models={
            "m": {"provider": "up", "model": "upstream-model", "price": {"input_per_1m": 1.0, "output_per_1m": 2.0}}
        },
        routes={},
    )
    rt = make_runtime()
    client = gw_client(rt)
    r = client.post(
        "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "a secret question"}]},
        headers={"traceparent": PARENT, "baggage": "tenant=acme"},
    )
    assert r.status_code == 200, r.text
    model = next(s for s in _spans(rt) if s.name == "chat upstream-model")
    header = up.headers_seen[0]["traceparent"]
    assert header == f"00-{TRACE}-{model.context.span_id:016x}-01"  # the provider's spans join this trace
    a = model.attributes
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] == "upstream-model"
    assert a["gen_ai.provider.name"] == kind and a["gen_ai.system"] == kind
    assert a["gen_ai.usage.input_tokens"] == 10 and a["gen_ai.usage.output_tokens"] > 0
    assert a["gen_ai.response.finish_reasons"] and a["gen_ai.response.model"]
    assert a["charter.gateway.route"] == "m" and a["charter.gateway.attempt"] == 1
    assert not any("a secret question" in str(v) for v in a.values())
    get_gateway(rt).audit.flush()
    with rt.read() as conn:
        assert conn.execute(sa.select(gateway_calls.c.trace_id)).scalar() == TRACE
    text = client.get("/metrics").text
    assert 'charter_gateway_requests_total{model="m",provider="up",route="m",status="ok"} 1.0' in text
    assert 'charter_gateway_cost_usd_total{model="m",provider="up",route="m"}' in text


def test_a_failed_attempt_is_an_error_span_and_an_error_in_the_metrics(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., Any],
) -> None:
    up = upstreams("status:500")
    write_model_yaml(
        gw_project, providers={"up": provider(up)}, models={"m": {"provider": "up", "model": "x"}}, routes={}
    )
    rt = make_runtime()
    client = gw_client(rt)
    r = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "q"}]})
    assert r.status_code == 502
    failed = [s for s in _spans(rt) if s.name == "chat x"]
    assert failed and all(s.status.status_code is StatusCode.ERROR for s in failed)
    assert failed[0].attributes["error.type"]
    assert 'charter_gateway_requests_total{model="none",provider="none",route="m",status="error"} 1.0' in (
        client.get("/metrics").text
    )


def test_a_streamed_call_is_a_genai_span_too(
    gw_project: Path,
    upstreams: Callable[..., MockUpstream],
    make_runtime: Callable[..., Runtime],
    gw_client: Callable[..., Any],
) -> None:
    up = upstreams("ok", answer="streamed words here")
    write_model_yaml(
        gw_project, providers={"up": provider(up)}, models={"m": {"provider": "up", "model": "s"}}, routes={}
    )
    rt = make_runtime()
    client = gw_client(rt)
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]}
    with client.stream("POST", "/v1/chat/completions", json=body, headers={"traceparent": PARENT}) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    assert "streamed" in text
    [span] = [s for s in _spans(rt) if s.name == "chat s"]
    assert format(span.context.trace_id, "032x") == TRACE
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.status.status_code is not StatusCode.ERROR
    assert up.headers_seen[0]["traceparent"].split("-")[1] == TRACE


def test_the_audit_api_links_a_call_to_its_trace(
    gw_project: Path, make_runtime: Callable[..., Runtime], gw_client: Callable[..., Any]
) -> None:
    from charter.auth.roles import SYSTEM
    from charter.auth.tokens import create_token

    (gw_project / "charter.toml").write_text(
        (gw_project / "charter.toml").read_text()
        + '\n[charter.telemetry]\ntrace_url = "http://jaeger:16686/trace/{trace_id}"\n'
    )
    write_model_yaml(gw_project, providers={}, models={}, routes={})
    rt = make_runtime()
    client = gw_client(rt)
    r = client.post(
        "/v1/chat/completions",
        json={"model": "local-extractive", "messages": [{"role": "user", "content": "q"}]},
        headers={"traceparent": PARENT},
    )
    assert r.status_code == 200, r.text
    get_gateway(rt).audit.flush()
    token = create_token(rt, SYSTEM, "t-admin", "admin")[0]
    with rt.read() as conn:
        call_id = conn.execute(sa.select(gateway_calls.c.id)).scalar()
    call = client.get(f"/v1/manage/llm-calls/{call_id}", headers={"Authorization": f"Bearer {token}"}).json()
    assert call["trace_id"] == TRACE
    assert call["trace_url"] == f"http://jaeger:16686/trace/{TRACE}"


def test_gateway_series_are_counted_as_labelled_prometheus_metrics_would_be() -> None:
    """GatewayMetrics keeps each call's labelled series after the first lookup: the exposition is
    what calling ``labels()`` every time gave (a cost series only once a call cost something)."""
    from prometheus_client import CollectorRegistry, generate_latest

    from charter.gateway.telemetry import GatewayMetrics, metrics_for

    class Holder:  # what metrics_for reads of a Telemetry
        def __init__(self) -> None:
            self.registry = CollectorRegistry()
            self.extra: dict[str, Any] = {}

    def naive(
        m: GatewayMetrics, route: str, model: str, provider: str, status: str, s: float, u: Any, c: float
    ) -> None:
        m.requests.labels(route, model, provider, status).inc()
        m.latency.labels(route, model, provider, status).observe(s)
        m.tokens.labels(route, model, provider, "input").inc(u.get("prompt_tokens", 0))
        m.tokens.labels(route, model, provider, "output").inc(u.get("completion_tokens", 0))
        if c:
            m.cost.labels(route, model, provider).inc(c)

    calls = [
        ("r", "m", "p", "ok", 0.02, {"prompt_tokens": 3, "completion_tokens": 5}, 0.0),
        ("r", "m", "p", "ok", 0.4, {"prompt_tokens": 1, "completion_tokens": 2}, 0.001),
        ("r", "m", "p", "error", 1.5, {}, 0.0),
        ("r2", "m", "q", "ok", 0.01, {"prompt_tokens": 9}, 0.0),
        ("r", "m", "p", "ok", 0.03, {"prompt_tokens": 3, "completion_tokens": 5}, 0.002),
    ]
    ours, theirs = Holder(), Holder()
    cached, plain = metrics_for(ours), metrics_for(theirs)  # type: ignore[arg-type]
    for call in calls:
        cached.observe(*call)
        naive(plain, *call)

    def text(h: Holder) -> list[str]:
        return sorted(line for line in generate_latest(h.registry).decode().splitlines() if "_created" not in line)

    assert text(ours) == text(theirs)
    assert 'charter_gateway_cost_usd_total{model="m",provider="q",route="r2"}' not in "\n".join(text(ours))
