"""Evaluation configs: ``configs/retriever.yaml`` and the ``eval`` section of ``configs/model.yaml``.

retriever.yaml (paths relative to the file)::

    source: project          # project: the project's published content, through retrieval.yaml
                             # beir: a BEIR-format corpus (corpus.jsonl[.gz]) given by `corpus`
    contract: ../retrieval.yaml
    corpus: null
    mode: hybrid             # bm25 | dense | hybrid
    top_k: 4                 # sources handed to the model
    depth: 100               # documents retrieved for the retrieval metrics
    recall_k: 10             # k in recall@k
    rrf_k: null              # hybrid: the k of reciprocal rank fusion (null: the contract's rrf_k, 60)
    candidates: null         # hybrid, beir source: how deep BM25 and dense each rank before fusion (null: depth)
    dense_passages:          # beir source: dense encodes each document as overlapping word windows and
      max_tokens: 128        #   scores it by its best one; BM25 reads the whole document; null: one vector
      overlap: 32            #   per document (truncated at the model's 256 word pieces)
    routing: true            # route by intent (project source); false searches every index
    cache_dir: null          # embeddings of a beir corpus are cached here (null: <data dir>/eval-cache)

model.yaml is the gateway's file (providers, models, routes); the harness reads its ``eval``
section::

    eval:
      route: null            # gateway route or model for answers (null: the gateway's default)
      judge: null            # route or model that grades factuality claims (null: deterministic)
      concurrency: 4
      cache_dir: null        # model-call cache, keyed by request hash (null: <data dir>/eval-cache)

The data dir is the folder of the SQLite database (``.charter/`` in a project, ``.charter-demo/``
for the demo), or ``<project>/.charter`` on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from charter.exceptions import ConfigError, ErrorDetail

if TYPE_CHECKING:
    from charter.runtime import Runtime


class Passages(BaseModel):
    """Word windows a BEIR document is cut into for the dense model (its input stops at 256 word
    pieces, about 160 words of scientific English, so a longer abstract would otherwise lose its end;
    128 words and a title fit)."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(default=128, ge=8, le=4096)
    overlap: int = Field(default=32, ge=0, le=4095)

    @model_validator(mode="after")
    def _overlap_below_window(self) -> Passages:
        if self.overlap >= self.max_tokens:
            raise ValueError("overlap must be smaller than max_tokens")
        return self


class RetrieverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["project", "beir"] = "project"
    contract: str = "../retrieval.yaml"
    corpus: str | None = None
    mode: Literal["bm25", "dense", "hybrid"] = "hybrid"
    top_k: int = Field(default=4, ge=1, le=50)
    depth: int = Field(default=100, ge=1, le=10_000)
    recall_k: int = Field(default=10, ge=1, le=10_000)
    rrf_k: int | None = Field(default=None, ge=1, le=10_000)
    candidates: int | None = Field(default=None, ge=1, le=10_000)
    dense_passages: Passages | None = Field(default_factory=Passages)
    routing: bool = True
    cache_dir: str | None = None
    base: Path = Path(".")

    def resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else (self.base / path).resolve()


class ModelEvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route: str | None = None
    judge: str | None = None
    concurrency: int = Field(default=4, ge=1, le=64)
    cache_dir: str | None = None
    path: Path | None = None
    base: Path = Path(".")

    def resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else (self.base / path).resolve()


def data_dir(rt: Runtime | None) -> Path:
    """Where the harness keeps its caches when the configs do not say."""
    if rt is None:
        return Path.cwd() / ".charter"
    url = rt.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return Path(rt.settings.project_dir) / ".charter"


def cache_dir(configured: str | None, base: Path, rt: Runtime | None) -> Path:
    if configured is None:
        return data_dir(rt) / "eval-cache"
    path = Path(configured)
    return path if path.is_absolute() else (base / path).resolve()


def _read(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {what} must be a mapping")
    return raw


def _errors(exc: ValidationError, path: Path, prefix: str = "") -> list[ErrorDetail]:
    return [
        ErrorDetail(prefix + "/" + "/".join(str(p) for p in e["loc"]), e["msg"], e["type"], str(path))
        for e in exc.errors()
    ]


def load_retriever_config(path: str | Path) -> RetrieverConfig:
    path = Path(path)
    raw = _read(path, "retriever config")
    try:
        cfg = RetrieverConfig.model_validate({**raw, "base": path.resolve().parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid retriever config", errors=_errors(exc, path)) from None
    if cfg.source == "beir" and not cfg.corpus:
        raise ConfigError(
            f"{path}: source beir needs 'corpus'",
            errors=[ErrorDetail("/corpus", "required when source is beir", "required", str(path))],
        )
    return cfg


def load_model_config(path: str | Path) -> ModelEvalConfig:
    path = Path(path)
    raw = _read(path, "model config")
    section = raw.get("eval") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: 'eval' must be a mapping")
    try:
        return ModelEvalConfig.model_validate({**section, "path": path.resolve(), "base": path.resolve().parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid eval section", errors=_errors(exc, path, "/eval")) from None
