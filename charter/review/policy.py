"""The review policy: ``review.yaml`` in the project (docs/review.md).

Which answers and drafts a person reviews: a **sample rate** per intent, prompt, route or client
key (the highest matching rate applies, else ``default``), and rules that **always** send an item
to review (high risk, a regulated index used, a refusal, a low retrieval score, a call of a named
or high-risk tool). Sampling is deterministic per request id (:func:`draw`): the same id and
rate always give the same decision, so a decision can be reproduced and tested.

A project without ``review.yaml`` samples nothing and keeps every ``always`` rule on.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charter.exceptions import ConfigError

FILE = "review.yaml"
#: How often (seconds) the files a loaded policy depends on are looked at again.
RECHECK_SECONDS = 1.0
DIMENSIONS = ("intents", "prompts", "routes", "keys")
ALWAYS_KEYS = ("high_risk", "regulated_index", "refusal", "min_retrieval_score", "tools", "high_risk_tools")
TOP_KEYS = ("version", "sample", "always", "lease", "salt")


@dataclass(frozen=True)
class Always:
    high_risk: bool = True
    regulated_index: bool = True
    refusal: bool = True
    #: An answer whose evidence score is below this is reviewed (None: no such rule).
    min_retrieval_score: float | None = None
    tools: tuple[str, ...] = ()
    high_risk_tools: bool = True


@dataclass(frozen=True)
class Facts:
    """What the policy looks at in one audit record or answer."""

    request_id: str
    intent: str | None = None
    prompt: str | None = None
    route: str | None = None
    key: str | None = None
    risk: str | None = None
    refused: bool = False
    regulated: tuple[str, ...] = ()  # regulated indexes the answer drew on
    evidence: float | None = None
    tools: tuple[str, ...] = ()  # tools called
    risky_tools: tuple[str, ...] = ()  # of those, the ones registered as high risk


@dataclass(frozen=True)
class ReviewPolicy:
    default: float = 0.0
    rates: dict[str, dict[str, float]] = field(default_factory=dict)  # dimension -> name -> rate
    always: Always = Always()
    lease_seconds: float = 900.0
    salt: str = ""
    path: Path | None = None

    def rate(self, facts: Facts) -> float:
        """The highest rate any of the item's intent, prompt, route or key has, else ``default``."""
        values = {"intents": facts.intent, "prompts": facts.prompt, "routes": facts.route, "keys": facts.key}
        found = [self.rates.get(dim, {})[v] for dim, v in values.items() if v and v in self.rates.get(dim, {})]
        return max(found) if found else self.default

    def reasons(self, facts: Facts) -> list[str]:
        """Why ``facts`` goes to review (empty: it does not)."""
        a = self.always
        out: list[str] = []
        if a.high_risk and facts.risk == "high":
            out.append("high_risk")
        if a.regulated_index and facts.regulated:
            out.append("regulated_index")
        if a.refusal and facts.refused:
            out.append("refusal")
        if a.min_retrieval_score is not None and facts.evidence is not None and facts.evidence < a.min_retrieval_score:
            out.append("low_retrieval_score")
        if (a.high_risk_tools and facts.risky_tools) or set(a.tools) & set(facts.tools):
            out.append("high_risk_tool")
        if draw(facts.request_id, self.rate(facts), self.salt):
            out.append("sampled")
        return out


def draw(request_id: str, rate: float, salt: str = "") -> bool:
    """Deterministic sampling: is ``request_id`` inside the first ``rate`` of the hash space?"""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"charter-review:{salt}:{request_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def _rate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{where}: a sample rate is a number from 0 to 1, got {value!r}")
    return float(value)


def _duration(value: Any, where: str) -> float:
    from charter.retrieval.contract import parse_duration

    try:
        seconds = parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if not 10 <= seconds <= 86400:
        raise ConfigError(f"{where}: a lease is from 10 s to 24 h, got {value!r}")
    return seconds


def parse_policy(raw: Any, known: dict[str, set[str]] | None = None, path: Path | None = None) -> ReviewPolicy:
    """A policy from the parsed YAML. ``known`` (dimension -> names) lists the project's intents,
    prompts, routes and keys: a rate for anything else is an error. Raises :class:`ConfigError`
    naming the file and the key."""
    where = str(path or FILE)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(TOP_KEYS)}")
    if raw.get("version", 1) != 1:
        raise ConfigError(f"{where}: version must be 1")
    sample = raw.get("sample") or {}
    if not isinstance(sample, dict):
        raise ConfigError(f"{where}: sample must be a mapping")
    bad = sorted(set(sample) - {"default", *DIMENSIONS})
    if bad:
        raise ConfigError(
            f"{where}: sample has unknown key(s) {', '.join(bad)}; known: default, {', '.join(DIMENSIONS)}"
        )
    rates: dict[str, dict[str, float]] = {}
    for dim in DIMENSIONS:
        table = sample.get(dim) or {}
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: sample.{dim} must map names to rates")
        for name, value in table.items():
            if known is not None and dim in known and str(name) not in known[dim]:
                names = ", ".join(sorted(known[dim])) or "none"
                raise ConfigError(f"{where}: sample.{dim}.{name}: unknown {dim[:-1]} {name!r}; known: {names}")
            rates.setdefault(dim, {})[str(name)] = _rate(value, f"{where}: sample.{dim}.{name}")
    default = _rate(sample.get("default", 0.0), f"{where}: sample.default")
    always_raw = raw.get("always") or {}
    if not isinstance(always_raw, dict):
        raise ConfigError(f"{where}: always must be a mapping")
    bad = sorted(set(always_raw) - set(ALWAYS_KEYS))
    if bad:
        raise ConfigError(f"{where}: always has unknown key(s) {', '.join(bad)}; known: {', '.join(ALWAYS_KEYS)}")
    for flag in ("high_risk", "regulated_index", "refusal", "high_risk_tools"):
        if flag in always_raw and not isinstance(always_raw[flag], bool):
            raise ConfigError(f"{where}: always.{flag} must be true or false")
    score = always_raw.get("min_retrieval_score")
    if score is not None:
        score = _rate(score, f"{where}: always.min_retrieval_score")
    tools = always_raw.get("tools") or []
    if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
        raise ConfigError(f"{where}: always.tools must be a list of tool names")
    if known is not None and "tools" in known:
        missing = sorted(set(tools) - known["tools"])
        if missing:
            raise ConfigError(f"{where}: always.tools names unknown tool(s) {', '.join(missing)}")
    always = Always(
        high_risk=always_raw.get("high_risk", True),
        regulated_index=always_raw.get("regulated_index", True),
        refusal=always_raw.get("refusal", True),
        min_retrieval_score=score,
        tools=tuple(tools),
        high_risk_tools=always_raw.get("high_risk_tools", True),
    )
    salt = raw.get("salt", "")
    if not isinstance(salt, str):
        raise ConfigError(f"{where}: salt must be a string")
    lease = _duration(raw.get("lease", "15m"), f"{where}: lease")
    return ReviewPolicy(default, rates, always, lease, salt, path)


def known_names(rt: Any) -> dict[str, set[str]]:
    """The project's intents, prompts, routes and tools, for checking a policy (client keys are
    free-form: API tokens run prompts under their own names). A part that is missing or broken is
    left out (its own loader reports it)."""
    from charter.exceptions import CharterError

    known: dict[str, set[str]] = {}
    project = Path(rt.settings.project_dir)
    try:
        from charter.retrieval.contract import load_contract

        known["intents"] = set(load_contract(project / "retrieval.yaml").intents)
    except CharterError:
        pass
    try:
        from charter.gateway import get_gateway

        gw = get_gateway(rt)
        known["prompts"] = set(gw.prompts.prompts)
        known["routes"] = set(gw.config.routes) | set(gw.config.models)
        known["tools"] = set(gw.tools.tools)
    except CharterError:
        pass
    return known


def _stamp(project: Path) -> tuple[Any, ...]:
    from charter.gateway.prompts.registry import directory_stamp

    files = []
    for name in (FILE, "retrieval.yaml", "configs/model.yaml"):
        try:
            st = (project / name).stat()
            files.append((name, st.st_size, st.st_mtime_ns))
        except OSError:
            files.append((name, -1, -1))
    return (*files, directory_stamp(project / "prompts"), directory_stamp(project / "tools"))


def load_policy(rt: Any) -> ReviewPolicy:
    """The project's ``review.yaml``, checked against its intents, prompts, routes and tools;
    read again only when one of those files changes (looked at most once a second: every answer
    asks for it)."""
    project = Path(rt.settings.project_dir)
    cached = getattr(rt, "review_policy", None)
    now = time.monotonic()
    if cached is not None and now - cached[0][0] < RECHECK_SECONDS:
        return cached[1]
    stamp = _stamp(project)
    if cached is not None and cached[0][1] == stamp:
        rt.review_policy = ((now, stamp), cached[1])
        return cached[1]
    path = project / FILE
    if not path.is_file():
        policy = ReviewPolicy()
    else:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the review policy: {exc}") from exc
        policy = parse_policy(raw, known_names(rt), path)
    if hasattr(rt, "review_policy"):
        rt.review_policy = ((now, stamp), policy)
    return policy
