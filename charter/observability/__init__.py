"""Structured logs, OpenTelemetry traces, Prometheus metrics, health checks, problem details."""
