"""OTLP export to a real receiver process on loopback (charter.observability.receiver, built on
the official opentelemetry-proto messages): traces over HTTP/protobuf and gRPC, configured by the
standard OTEL_* variables or charter.toml, sampling, metrics pushed, and a collector that is down
or slow never slowing or failing a request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from charter.app import create_app
from charter.config import load_settings
from charter.exceptions import ConfigError
from charter.observability import otlp
from charter.observability.telemetry import Telemetry
from charter.runtime import Runtime
from tests.observability.receiver import Receiver, otlp_receiver

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
UNSAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as r:
        yield r


def _client(project_dir: Path, tmp_path: Path, **overrides: object) -> tuple[TestClient, Runtime]:
    settings = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'c.db'}", worker=False, **overrides)
    rt = Runtime.open(settings)
    return TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False), rt


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_spans_reach_the_receiver_configured_by_otel_variables(
    protocol: str, receiver: Receiver, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(protocol))
    monkeypatch.setenv("OTEL_SERVICE_NAME", "charter-test")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    client, rt = _client(project_dir, tmp_path)
    try:
        with client:
            assert client.get("/healthz", headers={"traceparent": PARENT}).status_code == 200
        assert rt.telemetry.provider.force_flush(10_000)
        got = receiver.wait_for(lambda g: any(s["name"] == "GET /healthz" for s in g["spans"]))
    finally:
        rt.close()
    (span,) = [s for s in got["spans"] if s["name"] == "GET /healthz"]
    assert span["trace_id"] == "0af7651916cd43dd8448eb211c80319c"  # the caller's trace continued
    assert span["parent_span_id"] == "b7ad6b7169203331"
    assert span["transport"] == ("grpc" if protocol == "grpc" else "http")
    assert span["resource"]["service.name"] == "charter-test"
    assert span["resource"]["deployment.environment.name"] == "ci"
    assert span["attributes"]["http.route"] == "/healthz"


def test_charter_toml_configures_export_and_sampling(receiver: Receiver, project_dir: Path, tmp_path: Path) -> None:
    (project_dir / "charter.toml").write_text(
        "[charter]\ntrace_exporter = 'otlp'\n"
        "[charter.telemetry]\n"
        f"endpoint = '{receiver.endpoint('http/protobuf')}'\n"
        "traces_sampler = 'parentbased_traceidratio'\ntraces_sampler_arg = 0.0\nschedule_delay_ms = 50\n"
    )
    client, rt = _client(project_dir, tmp_path)
    try:
        with client:
            for _ in range(5):
                client.get("/healthz")  # ratio 0: never recorded without a sampled parent
            client.get("/healthz", headers={"traceparent": UNSAMPLED_PARENT})
            client.get("/readyz", headers={"traceparent": PARENT})  # a sampled parent is followed
        assert rt.telemetry.provider.force_flush(10_000)
        got = receiver.wait_for(lambda g: any(s["name"] == "GET /readyz" for s in g["spans"]))
    finally:
        rt.close()
    assert [s["name"] for s in got["spans"] if s["name"].startswith("GET")] == ["GET /readyz"]


def test_metrics_are_pushed_as_otlp(receiver: Receiver, project_dir: Path, tmp_path: Path) -> None:
    client, rt = _client(
        project_dir,
        tmp_path,
        telemetry={
            "endpoint": receiver.endpoint("http/protobuf"),
            "metrics_exporter": "otlp",
            "metric_export_interval_ms": 200,
        },
    )
    try:
        with client:
            client.get("/healthz")
        got = receiver.wait_for(lambda g: any(m["name"] == "charter_http_requests" for m in g["metrics"]))
    finally:
        rt.close()
    requests = [m for m in got["metrics"] if m["name"] == "charter_http_requests"][-1]
    assert requests["kind"] == "sum"
    routes = {a["value"]["stringValue"] for p in requests["points"] for a in p["attributes"] if a["key"] == "route"}
    assert "/healthz" in routes
    latency = [m for m in got["metrics"] if m["name"] == "charter_http_request_duration_seconds"][-1]
    assert latency["kind"] == "histogram" and int(latency["points"][0]["count"]) >= 1


@pytest.mark.parametrize("delay", [None, 3.0], ids=["stopped", "slow"])
def test_a_collector_down_or_slow_never_slows_or_fails_a_request(
    delay: float | None, project_dir: Path, tmp_path: Path
) -> None:
    with otlp_receiver(delay=delay or 0.0) as receiver:
        client, rt = _client(
            project_dir,
            tmp_path,
            trace_exporter="otlp",
            telemetry={
                "endpoint": receiver.endpoint("http/protobuf"),
                "schedule_delay_ms": 20,
                "max_queue_size": 64,
                "max_export_batch_size": 8,
                "timeout": 2,
                "metrics_exporter": "otlp",
                "metric_export_interval_ms": 100,
            },
        )
        try:
            with client:
                assert client.get("/healthz").status_code == 200
                if delay is None:
                    receiver.wait_for(lambda g: g["requests"]["traces"] > 0)
                    receiver.stop()  # the collector goes away mid-run
                slowest = 0.0
                for _ in range(100):
                    start = time.perf_counter()
                    assert client.get("/healthz").status_code == 200
                    slowest = max(slowest, time.perf_counter() - start)
            # Export runs on its own threads: a request only enqueues (and drops when full).
            assert slowest < 0.5, slowest
        finally:
            start = time.perf_counter()
            rt.close()
        assert time.perf_counter() - start < 15  # shutdown gives up on the collector too


@pytest.mark.parametrize(
    ("table", "env", "message"),
    [
        ({"protocol": "thrift"}, {}, "protocol"),
        ({}, {"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({}, {"OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({}, {"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        ({}, {"OTEL_RESOURCE_ATTRIBUTES": "no-equals-sign"}, "key=value"),
        ({"surprise": 1}, {}, "surprise"),
        ({}, {"OTEL_BSP_MAX_QUEUE_SIZE": "lots"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ],
)
def test_bad_telemetry_settings_are_refused_with_the_key(
    table: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        otlp.resolve(table, env)


def test_variables_win_over_charter_toml() -> None:
    table = {"service_name": "from-toml", "protocol": "grpc", "endpoint": "http://toml:4317", "traces_sampler_arg": 0.5}
    options = otlp.resolve(
        table,
        {
            "OTEL_SERVICE_NAME": "from-env",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%3Dcret",
        },
    )
    assert options.service_name == "from-env" and options.traces_sampler_arg == 0.1
    assert options.protocol == "grpc" and options.endpoint == "http://toml:4317"
    assert options.headers == {"api-key": "s=cret"}


@pytest.mark.parametrize(
    ("env", "sampling"),
    [
        ({"OTEL_TRACES_SAMPLER": "always_off"}, False),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, False),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}, True),
        ({"OTEL_TRACES_SAMPLER": "always_on"}, True),
    ],
)
def test_hot_paths_know_whether_a_root_span_may_be_recorded(
    env: dict[str, str], sampling: bool, project_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'c.db'}", trace_exporter="memory")
    telemetry = Telemetry.build(settings, environ=env)
    assert telemetry.sampling is sampling


def test_otel_sdk_disabled_turns_export_off(project_dir: Path, tmp_path: Path) -> None:
    settings = load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    telemetry = Telemetry.build(settings, environ={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"})
    assert not telemetry.exporting() and telemetry.exporter is None
    on = Telemetry.build(settings, environ={"OTEL_TRACES_EXPORTER": "otlp"})
    assert on.exporting() and isinstance(on.exporter, OTLPSpanExporter)
    on.shutdown()
