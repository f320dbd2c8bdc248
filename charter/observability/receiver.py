"""A small OTLP receiver for tests, benchmarks and local trials: ``python -m charter.observability.receiver``.

No OpenTelemetry Collector build with an OTLP receiver installs from the package registries Charter
uses (PyPI, npm, Debian), so Charter's tests run this instead: a separate process that accepts
OTLP/HTTP (``POST /v1/traces`` and ``/v1/metrics``, protobuf, gzip or not) and, when ``grpcio`` is
installed, OTLP/gRPC (``TraceService/Export`` and ``MetricsService/Export``), decodes each request
with the official ``opentelemetry-proto`` messages and keeps what it got. ``GET /received`` answers
it as JSON: spans (ids in hex, attributes, the resource's ``service.name``) and metrics (name, kind,
data points). ``--delay`` holds every export that many seconds (a slow collector).

It prints one line, ``listening http=PORT grpc=PORT``, once both servers accept connections.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class Store:
    """What the receiver got, decoded; shared by the HTTP and gRPC servers."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.spans: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []
        self.requests = {"traces": 0, "metrics": 0}

    def traces(self, request: ExportTraceServiceRequest, transport: str) -> None:
        time.sleep(self.delay)
        found = []
        for rs in request.resource_spans:
            resource = {a.key: _value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for span in ss.spans:
                    found.append(
                        {
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "kind": span.kind,
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                            "status": span.status.code,
                            "resource": resource,
                            "transport": transport,
                        }
                    )
        with self.lock:
            self.spans.extend(found)
            self.requests["traces"] += 1

    def metric(self, request: ExportMetricsServiceRequest, transport: str) -> None:
        time.sleep(self.delay)
        found = []
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    body = MessageToDict(m)
                    kind = next((k for k in ("sum", "gauge", "histogram") if k in body), "other")
                    found.append(
                        {
                            "name": m.name,
                            "kind": kind,
                            "points": body.get(kind, {}).get("dataPoints", []),
                            "transport": transport,
                        }
                    )
        with self.lock:
            self.metrics.extend(found)
            self.requests["metrics"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"spans": list(self.spans), "metrics": list(self.metrics), "requests": dict(self.requests)}


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/received":
                self._reply(200, json.dumps(store.snapshot()).encode(), "application/json")
            else:
                self._reply(404, b"", "text/plain")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                request: Any = ExportTraceServiceRequest.FromString(body)
                store.traces(request, "http")
                reply = ExportTraceServiceResponse()
            elif self.path == "/v1/metrics":
                request = ExportMetricsServiceRequest.FromString(body)
                store.metric(request, "http")
                reply = ExportMetricsServiceResponse()
            else:
                self._reply(404, b"", "text/plain")
                return
            self._reply(200, reply.SerializeToString(), "application/x-protobuf")

    return Handler


def _grpc_server(store: Store, port: int) -> tuple[Any, int] | None:
    try:
        import grpc
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
    except ImportError:
        return None

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: ExportTraceServiceRequest, context: Any) -> ExportTraceServiceResponse:
            store.traces(request, "grpc")
            return ExportTraceServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request: ExportMetricsServiceRequest, context: Any) -> ExportMetricsServiceResponse:
            store.metric(request, "grpc")
            return ExportMetricsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m charter.observability.receiver", description=__doc__)
    parser.add_argument("--http-port", type=int, default=4318, help="OTLP/HTTP port (0: any free one)")
    parser.add_argument("--grpc-port", type=int, default=4317, help="OTLP/gRPC port (0: any free one; -1: none)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to hold every export")
    args = parser.parse_args(argv)
    store = Store(args.delay)
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), _handler(store))
    grpc_port = -1
    if args.grpc_port >= 0:
        started = _grpc_server(store, args.grpc_port)
        grpc_port = started[1] if started else -1
    print(f"listening http={http.server_address[1]} grpc={grpc_port}", flush=True)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
