"""W3C trace context (and baggage) on the calls Charter makes, seen by a real loopback server:
a content source (Wagtail) and a live contract check send the current span's traceparent and the
baggage; nothing is sent outside a span; a stored traceparent becomes a parent again."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context

from charter.config import load_settings
from charter.contracts import load_contracts, verify_contracts
from charter.delivery.sources.wagtail import WagtailSource
from charter.observability import propagation
from charter.observability.telemetry import Telemetry
from charter.runtime import Runtime
from tests.delivery_wagtail.conftest import WAGTAIL_TYPES

DEMO_CONTRACTS = Path(__file__).parents[2] / "charter" / "demo" / "contracts"


class Capture:
    """A loopback server answering every GET with an empty listing, keeping each request's headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                capture.headers.append({k.lower(): v for k, v in self.headers.items()})
                body = json.dumps({"items": [], "meta": {"total_count": 0}}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture() -> Iterator[Capture]:
    c = Capture()
    yield c
    c.close()


@pytest.fixture
def telemetry(project_dir: Path, tmp_path: Path) -> Telemetry:
    return Telemetry.build(
        load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 't.db'}", trace_exporter="memory")
    )


def _ids(header: str) -> tuple[str, str]:
    version, trace_id, span_id, flags = header.split("-")
    assert version == "00" and int(flags, 16) & 1  # sampled
    return trace_id, span_id


def test_a_content_source_sends_the_current_trace_and_baggage(
    capture: Capture, telemetry: Telemetry, project_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        source="wagtail",
        wagtail_url=capture.url,
        wagtail=WAGTAIL_TYPES,
        worker=False,
    )
    rt = Runtime(settings=settings, engine=None, plugins=None)  # type: ignore[arg-type]  # the source reads settings and registry only
    source = WagtailSource(rt)
    try:
        source.page("home", None)  # outside any span: nothing to propagate
        token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
        try:
            with telemetry.tracer.start_as_current_span("render") as span:
                source.page("home", None)
        finally:
            otel_context.detach(token)
    finally:
        source.close()
    outside, inside = capture.headers
    assert "traceparent" not in outside
    trace_id, span_id = _ids(inside["traceparent"])
    assert trace_id == format(span.get_span_context().trace_id, "032x")
    assert span_id == format(span.get_span_context().span_id, "016x")
    assert inside["baggage"] == "tenant=acme"


def test_a_live_contract_check_sends_the_current_trace(capture: Capture, telemetry: Telemetry) -> None:
    with telemetry.tracer.start_as_current_span("contracts") as span:
        verify_contracts(load_contracts(DEMO_CONTRACTS), capture.url)
    assert capture.headers
    for headers in capture.headers:
        assert _ids(headers["traceparent"])[0] == format(span.get_span_context().trace_id, "032x")


@pytest.mark.parametrize("stored", [None, "", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01"])
def test_a_missing_or_malformed_stored_traceparent_is_no_parent(stored: str | None) -> None:
    assert propagation.context_of(stored) is None


def test_a_stored_traceparent_is_a_parent_again(telemetry: Telemetry) -> None:
    with telemetry.tracer.start_as_current_span("publish"):
        stored = propagation.current_traceparent()
    assert stored is not None
    with telemetry.tracer.start_as_current_span("deliver", context=propagation.context_of(stored)) as later:
        assert propagation.current_traceparent() is not None
    assert format(later.get_span_context().trace_id, "032x") == stored.split("-")[1]
    assert later.parent is not None and format(later.parent.span_id, "016x") == stored.split("-")[2]


def test_statements_inside_traced_work_are_database_spans(project_dir: Path, tmp_path: Path) -> None:
    import sqlalchemy as sa

    settings = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'db.db'}", trace_exporter="memory")
    rt = Runtime.open(settings)
    try:
        telemetry = rt.telemetry
        with rt.read() as conn:
            conn.execute(sa.text("SELECT 1"))  # outside a span: no trace of its own
        with telemetry.tracer.start_as_current_span("work") as parent, rt.read() as conn:
            conn.execute(sa.text("SELECT count(*) FROM events WHERE type = :t"), {"t": "secret-value"})
        spans = [s for s in telemetry.exporter.get_finished_spans() if s.name == "SELECT sqlite"]  # type: ignore[union-attr]
        [db] = spans
        assert db.parent is not None and db.parent.span_id == parent.get_span_context().span_id
        assert db.attributes["db.system.name"] == "sqlite" and db.attributes["db.operation.name"] == "SELECT"
        assert "secret-value" not in db.attributes["db.query.text"]  # bound parameters stay out
    finally:
        rt.close()
