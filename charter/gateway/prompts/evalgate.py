"""The eval gate: does an eval report (format ``charter.eval-report/1``) allow promoting a version?

The report must be for this prompt and version (``subject.prompt`` / ``subject.prompt_version``)
and its ``summary`` must meet every threshold the version declares (``{min: x}`` means
``summary[m] >= x``, ``{max: y}`` means ``summary[m] <= y``). A metric the report lacks fails.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from charter.exceptions import ErrorDetail, ValidationFailed
from charter.gateway.prompts.registry import PromptVersion

REPORT_FORMAT = "charter.eval-report/1"


def report_sha256(report: dict[str, Any] | bytes) -> str:
    data = report if isinstance(report, bytes) else orjson.dumps(report, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


def check_report(report: Any, version: PromptVersion) -> dict[str, Any]:
    """Return the report's summary if it allows promoting ``version``; else raise
    :class:`ValidationFailed` listing every reason (pointers into the report)."""
    errors: list[ErrorDetail] = []
    if not isinstance(report, dict):
        raise ValidationFailed(
            detail="the eval report is not a JSON object", errors=[ErrorDetail("", "expected an object", "type")]
        )
    if report.get("format") != REPORT_FORMAT:
        errors.append(ErrorDetail("/format", f"expected {REPORT_FORMAT!r}, got {report.get('format')!r}", "const"))
    subject: dict[str, Any] = report["subject"] if isinstance(report.get("subject"), dict) else {}
    if subject.get("prompt") != version.name:
        errors.append(
            ErrorDetail(
                "/subject/prompt", f"report is for prompt {subject.get('prompt')!r}, not {version.name!r}", "const"
            )
        )
    if subject.get("prompt_version") != version.version:
        errors.append(
            ErrorDetail(
                "/subject/prompt_version",
                f"report is for version {subject.get('prompt_version')!r}, not {version.version!r}",
                "const",
            )
        )
    summary = report.get("summary")
    if not isinstance(summary, dict):
        errors.append(ErrorDetail("/summary", "the report has no summary object", "required"))
        summary = {}
    for metric, bound in version.thresholds.items():
        value = summary.get(metric)
        ptr = f"/summary/{metric}"
        if not isinstance(value, int | float) or isinstance(value, bool):
            errors.append(ErrorDetail(ptr, f"metric {metric!r} is missing from the report", "required"))
            continue
        if "min" in bound and value < bound["min"]:
            errors.append(ErrorDetail(ptr, f"{metric} = {value} is below the minimum {bound['min']}", "minimum"))
        if "max" in bound and value > bound["max"]:
            errors.append(ErrorDetail(ptr, f"{metric} = {value} is above the maximum {bound['max']}", "maximum"))
    if errors:
        raise ValidationFailed(
            detail=f"the eval report does not allow promoting {version.name}@{version.version}", errors=errors
        )
    return dict(summary)
