"""The gateway's spans and metrics: OpenTelemetry GenAI semantic conventions, Prometheus series.

Each provider attempt is a CLIENT span named ``chat {model}`` with the GenAI attributes
(``gen_ai.operation.name``, ``gen_ai.provider.name`` and the older ``gen_ai.system``,
``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.usage.input_tokens`` /
``output_tokens``, ``gen_ai.response.finish_reasons``, ``error.type``), plus Charter's own
(``charter.gateway.route``, ``charter.gateway.model``, ``charter.gateway.attempt``). Prompt and
completion text are recorded only with ``capture_content`` on (``[charter.telemetry]``), redacted
as the audit record is. Spans are built only when a processor records them.

Every finished call (one audit record) counts once in the ``charter_gateway_*`` series, by route,
model, provider and status: requests, tokens, cost and a latency histogram.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode
from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from charter.gateway.config import ModelConfig
    from charter.gateway.types import ProviderResult
    from charter.observability.telemetry import Telemetry

#: Provider kinds -> the GenAI ``gen_ai.provider.name`` well-known value.
PROVIDER_NAMES = {"openai": "openai", "anthropic": "anthropic", "azure": "azure.ai.openai", "local": "charter.local"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_lock = threading.Lock()


@dataclass
class GatewayMetrics:
    requests: Counter
    tokens: Counter
    cost: Counter
    latency: Histogram
    #: (route, model, provider, status) -> its labelled series, looked up once (``labels()`` costs
    #: a lock and a tuple hash per series per call): requests, latency, input and output tokens, cost.
    _series: dict[tuple[str, str, str, str], tuple[Any, Any, Any, Any, Any]] = field(default_factory=dict)

    def observe(
        self, route: str, model: str, provider: str, status: str, seconds: float, usage: dict[str, int], cost: float
    ) -> None:
        key = (route, model, provider, status)
        series = self._series.get(key)
        if series is None:
            labels = key[:3]
            series = self._series[key] = (
                self.requests.labels(*labels, status),
                self.latency.labels(*labels, status),
                self.tokens.labels(*labels, "input"),
                self.tokens.labels(*labels, "output"),
                None,  # the cost series appears with the first call that costs something
            )
        requests, latency, input_tokens, output_tokens, spent = series
        requests.inc()
        latency.observe(seconds)
        input_tokens.inc(int(usage.get("prompt_tokens", 0)))
        output_tokens.inc(int(usage.get("completion_tokens", 0)))
        if cost:
            if spent is None:
                spent = self.cost.labels(*key[:3])
                self._series[key] = (requests, latency, input_tokens, output_tokens, spent)
            spent.inc(cost)


def metrics_for(telemetry: Telemetry) -> GatewayMetrics:
    """The gateway series on ``telemetry``'s registry, registered once per instance."""
    with _lock:
        found = telemetry.extra.get("gateway_metrics")
        if isinstance(found, GatewayMetrics):
            return found
        registry = telemetry.registry
        labels = ["route", "model", "provider"]
        metrics = GatewayMetrics(
            requests=Counter("charter_gateway_requests", "Gateway calls", [*labels, "status"], registry=registry),
            tokens=Counter(
                "charter_gateway_tokens", "Tokens of gateway calls", [*labels, "token_type"], registry=registry
            ),
            cost=Counter("charter_gateway_cost_usd", "Cost of gateway calls in USD", labels, registry=registry),
            latency=Histogram(
                "charter_gateway_request_duration_seconds",
                "Gateway call latency",
                [*labels, "status"],
                registry=registry,
                buckets=LATENCY_BUCKETS,
            ),
        )
        telemetry.extra["gateway_metrics"] = metrics
        return metrics


@contextmanager
def model_span(
    telemetry: Telemetry, model: ModelConfig, provider_kind: str, route: str, attempt: int, operation: str = "chat"
) -> Iterator[Span]:
    """The CLIENT span of one provider attempt; an exception leaving it marks it failed."""
    if not telemetry.exporting():
        yield INVALID_SPAN
        return
    attributes = _attributes(model, provider_kind, route, attempt, operation)
    with telemetry.tracer.start_as_current_span(
        f"{operation} {model.model}", kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
    ) as span:
        try:
            yield span
        except BaseException as exc:
            if span.is_recording():
                span.set_attribute("error.type", str(getattr(exc, "kind", "") or type(exc).__name__))
                span.set_status(StatusCode.ERROR, str(exc)[:200])
            raise


#: The attributes a (model, provider kind, route, attempt, operation) starts its span with, built
#: once: the tracer copies them into each span.
_start_attributes: dict[tuple[str, str, str, str, str, int, str], dict[str, Any]] = {}


def _attributes(model: ModelConfig, provider_kind: str, route: str, attempt: int, operation: str) -> dict[str, Any]:
    key = (model.name, model.model, model.provider, provider_kind, route, attempt, operation)
    found = _start_attributes.get(key)
    if found is not None:
        return found
    provider_name = PROVIDER_NAMES.get(provider_kind, provider_kind)
    found = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name,
        "gen_ai.system": provider_name,
        "gen_ai.request.model": model.model,
        "charter.gateway.route": route,
        "charter.gateway.model": model.name,
        "charter.gateway.provider": model.provider,
        "charter.gateway.attempt": attempt,
    }
    if len(_start_attributes) >= 1024:
        _start_attributes.clear()  # configurations reloaded many times: start again
    _start_attributes[key] = found
    return found


def start_stream_span(
    telemetry: Telemetry, model: ModelConfig, provider_kind: str, route: str, attempt: int
) -> Span | None:
    """The CLIENT span of one streamed attempt, started but not made current (a generator may
    resume in another context); end it with :func:`end_stream_span`. None when nobody records."""
    if not telemetry.exporting():
        return None
    attributes = {**_attributes(model, provider_kind, route, attempt, "chat"), "gen_ai.request.stream": True}
    return telemetry.tracer.start_span(f"chat {model.model}", kind=SpanKind.CLIENT, attributes=attributes)


def end_stream_span(
    span: Span | None,
    usage: dict[str, int] | None,
    error: BaseException | None,
    finish_reason: str | None = None,
) -> None:
    if span is None:
        return
    if usage:
        span.set_attribute("gen_ai.usage.input_tokens", int(usage.get("prompt_tokens", 0)))
        span.set_attribute("gen_ai.usage.output_tokens", int(usage.get("completion_tokens", 0)))
    if finish_reason:
        span.set_attribute("gen_ai.response.finish_reasons", [finish_reason])
    if error is not None:
        span.set_attribute("error.type", str(getattr(error, "kind", "") or type(error).__name__))
        span.set_status(StatusCode.ERROR, str(error)[:200])
    span.end()


def record_result(span: Span, result: ProviderResult) -> None:
    """The response attributes of a finished attempt."""
    if not span.is_recording():
        return
    span.set_attributes(
        {
            "gen_ai.response.model": result.model,
            "gen_ai.usage.input_tokens": int(result.usage.get("prompt_tokens", 0)),
            "gen_ai.usage.output_tokens": int(result.usage.get("completion_tokens", 0)),
            "gen_ai.response.finish_reasons": [result.finish_reason or "stop"],
        }
    )
    if result.tool_calls:
        span.set_attribute(
            "charter.gateway.tool_calls",
            [str((t.get("function") or {}).get("name") or "") for t in result.tool_calls],
        )


def record_content(span: Span, messages: Any, text: str | None) -> None:
    """Prompt and completion on the span (``capture_content`` on; already redacted by the caller),
    as the GenAI ``gen_ai.input.messages`` / ``gen_ai.output.messages`` attributes, JSON-encoded."""
    if not span.is_recording():
        return
    import orjson

    span.set_attribute("gen_ai.input.messages", orjson.dumps(messages).decode())
    if text is not None:
        span.set_attribute(
            "gen_ai.output.messages",
            orjson.dumps([{"role": "assistant", "parts": [{"type": "text", "content": text}]}]).decode(),
        )
