"""The model-call cache: one JSON file per request, named by the SHA-256 of the request.

The key covers the route or model name, the messages and the prompt name/version, so changing any
of them is a miss; a hit returns the stored completion with ``cached = True`` and the latency that
was measured when the call was really made.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from charter.retrieval.answer import Complete


@dataclass
class CachedCompletion:
    text: str
    model: str | None
    provider: str | None
    route: str | None
    latency_ms: float
    citations: list[str] = field(default_factory=list)
    cached: bool = False


def request_key(route: str, messages: list[dict[str, Any]], metadata: dict[str, Any]) -> str:
    material = {
        "route": route,
        "messages": messages,
        "prompt": metadata.get("prompt"),
        "prompt_version": metadata.get("prompt_version"),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class CachedComplete:
    """Wraps a :data:`~charter.retrieval.answer.Complete` with the on-disk cache."""

    def __init__(self, inner: Complete, directory: Path | None) -> None:
        self.inner = inner
        self.directory = directory
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / "calls" / key[:2] / f"{key}.json"

    async def __call__(self, route: str, messages: list[dict[str, Any]], metadata: dict[str, Any]) -> CachedCompletion:
        key = request_key(route, messages, metadata)
        if self.directory is not None:
            path = self._path(key)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.hits += 1
                return CachedCompletion(**{**data, "cached": True})
            except (OSError, ValueError, TypeError):
                pass
        self.misses += 1
        result = await self.inner(route, messages, metadata)
        completion = CachedCompletion(
            text=str(getattr(result, "text", "")),
            model=getattr(result, "model", None),
            provider=getattr(result, "provider", None),
            route=getattr(result, "route", None),
            latency_ms=float(getattr(result, "latency_ms", 0.0) or 0.0),
            citations=list(getattr(result, "citations", None) or []),
        )
        if self.directory is not None:
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(asdict(completion)), encoding="utf-8")
            os.replace(tmp, path)
        return completion
