"""The eval gate: does an eval report allow promoting a prompt version?

The report format is ``charter.eval-report/1`` (written by ``charter eval run --report``; the
fields the gate reads are documented in docs/prompts.md)::

    {
      "format": "charter.eval-report/1",
      "subject": {"prompt": "support-answer", "prompt_version": "1.1.0", ...},
      "summary": {"factuality": {"value": 0.93, "n": 40}, "latency_p95_ms": 812.0, ...},
      ...
    }

The report must be for this prompt and version (``subject.prompt`` / ``subject.prompt_version``)
and its ``summary`` must meet every threshold the version declares: ``{min: x}`` means
``value >= x``, ``{max: y}`` means ``value <= y``. A summary figure is a number or an object
with a numeric ``value`` (the harness also records ``n`` and more). A metric the report lacks, or
whose value is null (no case measured it), fails: the gate never passes by omission.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from charter.exceptions import ErrorDetail, ValidationFailed
from charter.gateway.prompts.registry import PromptVersion

REPORT_FORMAT = "charter.eval-report/1"


def report_sha256(report: dict[str, Any] | bytes) -> str:
    data = report if isinstance(report, bytes) else orjson.dumps(report, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


@dataclass
class GateResult:
    """The verdict on one report for one version. ``summary`` holds the figures the thresholds
    name (metric -> number) as far as the report had them."""

    passed: bool
    summary: dict[str, float]
    errors: list[ErrorDetail] = field(default_factory=list)


def figure(value: Any) -> float | None:
    """A summary figure as a number: ``0.9`` or ``{"value": 0.9, ...}``; None if neither."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def evaluate(report: Any, version: PromptVersion) -> GateResult:
    """Check ``report`` against ``version``'s thresholds without raising."""
    errors: list[ErrorDetail] = []
    if not isinstance(report, dict):
        return GateResult(False, {}, [ErrorDetail("", "the eval report is not a JSON object", "type")])
    if report.get("format") != REPORT_FORMAT:
        errors.append(ErrorDetail("/format", f"expected {REPORT_FORMAT!r}, got {report.get('format')!r}", "const"))
    subject: dict[str, Any] = report["subject"] if isinstance(report.get("subject"), dict) else {}
    if subject.get("prompt") != version.name:
        errors.append(
            ErrorDetail(
                "/subject/prompt", f"report is for prompt {subject.get('prompt')!r}, not {version.name!r}", "const"
            )
        )
    if str(subject.get("prompt_version")) != version.version:
        errors.append(
            ErrorDetail(
                "/subject/prompt_version",
                f"report is for version {subject.get('prompt_version')!r}, not {version.version!r}",
                "const",
            )
        )
    summary_raw = report.get("summary")
    if not isinstance(summary_raw, dict):
        errors.append(ErrorDetail("/summary", "the report has no summary object", "required"))
        summary_raw = {}
    if not version.thresholds:
        errors.append(
            ErrorDetail(
                "/summary",
                f"{version.name}@{version.version} declares no eval thresholds; add eval.thresholds to its file",
                "required",
            )
        )
    summary: dict[str, float] = {}
    for metric, bound in version.thresholds.items():
        value = figure(summary_raw.get(metric))
        ptr = f"/summary/{metric}"
        if value is None:
            errors.append(
                ErrorDetail(ptr, f"metric {metric!r} is missing from the report (or has no value)", "required")
            )
            continue
        summary[metric] = value
        if "min" in bound and value < bound["min"]:
            errors.append(ErrorDetail(ptr, f"{metric} = {value:g} is below the minimum {bound['min']:g}", "minimum"))
        if "max" in bound and value > bound["max"]:
            errors.append(ErrorDetail(ptr, f"{metric} = {value:g} is above the maximum {bound['max']:g}", "maximum"))
    return GateResult(not errors, summary, errors)


def check_report(report: Any, version: PromptVersion) -> dict[str, float]:
    """The summary figures if ``report`` allows promoting ``version``; else
    :class:`ValidationFailed` listing every reason (pointers into the report)."""
    result = evaluate(report, version)
    if not result.passed:
        raise ValidationFailed(
            detail=f"the eval report does not allow promoting {version.name}@{version.version}", errors=result.errors
        )
    return result.summary
