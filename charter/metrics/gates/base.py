"""The gate interface of ``charter ci``.

A gate is a :class:`Gate` (a title and ``run(ctx: CIContext) -> GateResult``) registered on the
``register_ci_gates`` hook; the built-in ones are modules in :mod:`charter.metrics.gates`,
registered by :mod:`charter.metrics.plugin`. A gate imports one domain's public library function
inside :func:`domain`; when that domain is not in this build the gate is ``unavailable`` (which
fails the run unless the gate is skipped explicitly), never silently passed.

Statuses: ``passed``; ``failed`` (the domain said no); ``unavailable`` (the domain's function is
missing); ``error`` (the gate could not run: bad input, an unreadable file); ``skipped`` (``--skip``);
``not_applicable`` (the project has nothing for this gate, e.g. no ``tokens/`` folder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from charter.config import Settings

Status = Literal["passed", "failed", "unavailable", "error", "skipped", "not_applicable"]
FAILING: frozenset[str] = frozenset({"failed", "unavailable", "error"})


class GateUnavailable(Exception):
    """The domain function a gate calls is not part of this build."""


@dataclass
class CIContext:
    """What every gate may read: the project and the options of ``charter ci``."""

    settings: Settings
    dist: Path | None = None
    api: str | None = None
    #: The front end's base URL, for page budgets whose url is a path.
    url: str | None = None
    token: str | None = None
    llm_key: str | None = None
    base_ref: str | None = None
    apps: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> Path:
        return self.settings.project_dir

    @property
    def config(self) -> dict[str, Any]:
        """``[charter.metrics.ci]`` in charter.toml."""
        ci = self.settings.metrics.get("ci") or {}
        return ci if isinstance(ci, dict) else {}


@dataclass
class GateResult:
    name: str
    title: str
    status: Status
    summary: str
    details: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failing(self) -> bool:
        return self.status in FAILING

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.name,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "details": self.details,
            "data": self.data,
            "seconds": round(self.seconds, 3),
        }


@contextmanager
def domain(name: str) -> Iterator[None]:
    """Import a domain's library inside this block: an ImportError becomes :class:`GateUnavailable`."""
    try:
        yield
    except ImportError as exc:
        raise GateUnavailable(f"{name} is not in this build ({exc})") from None


@dataclass(frozen=True)
class Gate:
    """One ``charter ci`` gate: what the summary calls it and how it runs."""

    title: str
    run: Callable[[CIContext], GateResult]


def timed(name: str, title: str, fn: Callable[[], GateResult]) -> GateResult:
    from charter.exceptions import CharterError

    start = time.perf_counter()
    try:
        result = fn()
    except GateUnavailable as exc:
        result = GateResult(name, title, "unavailable", str(exc))
    except CharterError as exc:
        details = [f"{e.file + '#' if e.file else ''}{e.pointer or '/'}: {e.message}" for e in exc.errors]
        result = GateResult(name, title, "error", str(exc), details)
    result.seconds = time.perf_counter() - start
    return result
