"""Maintainability metrics, DORA, performance budgets and the CI gates.

- :func:`build_report` — the playbook's five maintainability metrics and DORA's five, over windows,
  with targets and status (``charter metrics report``, ``GET /v1/metrics``, ``/metrics``).
- :func:`series` — the same numbers per day, week or month, for charts; :func:`dashboard` — the
  report and every series in one JSON-ready dict (the admin dashboard).
- :func:`record_deploy`, :func:`record_incident` — the inputs of DORA (``POST /v1/events/deploy``,
  ``POST /v1/events/incident``, ``charter deploy record|incident``).
- :mod:`charter.metrics.budgets` — performance budgets (``charter budgets check``).
- :mod:`charter.metrics.gates` — ``charter ci``.

Submodules are imported on use, so ``import charter.metrics`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.metrics.deploys import DeployIn, IncidentIn, record_deploy, record_incident
    from charter.metrics.registry import METRICS
    from charter.metrics.report import Report, build_report
    from charter.metrics.series import Series, dashboard, series

__all__ = [
    "METRICS",
    "DeployIn",
    "IncidentIn",
    "Report",
    "Series",
    "build_report",
    "dashboard",
    "record_deploy",
    "record_incident",
    "series",
]

_LAZY = {
    "METRICS": "charter.metrics.registry",
    "DeployIn": "charter.metrics.deploys",
    "IncidentIn": "charter.metrics.deploys",
    "Report": "charter.metrics.report",
    "Series": "charter.metrics.series",
    "build_report": "charter.metrics.report",
    "dashboard": "charter.metrics.series",
    "record_deploy": "charter.metrics.deploys",
    "record_incident": "charter.metrics.deploys",
    "series": "charter.metrics.series",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'charter.metrics' has no attribute {name!r}")
