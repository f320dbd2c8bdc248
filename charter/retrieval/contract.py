"""The retrieval contract: ``retrieval.yaml``.

It says which content feeds which index, how content is chunked, how answers must cite it, how fresh
each index must be, and which indexes each intent may search. :func:`load_contract` validates the
file on load; every problem is reported as an :class:`~charter.exceptions.ErrorDetail` with the file,
a JSON pointer and the YAML line, and the whole file is rejected (no half-loaded contract).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from charter.exceptions import ConfigError, ErrorDetail, ValidationFailed

if TYPE_CHECKING:
    from charter.runtime import Runtime
    from charter.schemas.registry import Registry

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NAME = r"^[a-z][a-z0-9-]*$"


def parse_duration(value: str | int | float) -> float:
    """``"30s"``, ``"5m"``, ``"24h"``, ``"250ms"`` or a number of seconds -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 24h)")
    return float(match.group(1)) * _UNITS[match.group(2)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Chunking(_Model):
    """How a field's text is cut: at Markdown headings, then into windows of ``max_tokens`` words
    that overlap by ``overlap`` words. The default window (128 words and the title) stays within
    the 256 word pieces all-MiniLM-L6-v2 reads, so dense search sees every word of a chunk."""

    by_heading: bool = True
    max_tokens: int = Field(default=128, ge=8, le=4096)
    overlap: int = Field(default=32, ge=0)


class Citations(_Model):
    """``required``: an answer must cite at least one source. ``every_sentence``: each sentence of an
    answer must carry a citation (regulated content); uncited sentences are removed, and when none
    is left the answer becomes a refusal."""

    required: bool = True
    every_sentence: bool = False


class Passage(_Model):
    """A readable passage built from an entry's fields: ``text`` is a template with ``{field}``
    placeholders, one string for every language or one per language (``{en: ..., de: ...}``; a
    language without a wording gets no passage, its questions find the fallback locale's). A
    list value reads as "a, b and c". ``field`` is the field the passage is cited to (default:
    the template's first placeholder)."""

    text: str | dict[str, str]
    field: str | None = None

    @field_validator("text")
    @classmethod
    def _placeholders(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        for template in [value] if isinstance(value, str) else list(value.values()):
            if not re.search(r"{[A-Za-z_][\w-]*}", template):
                raise ValueError(f"passage template {template!r} uses no {{field}}")
        return value


class Source(_Model):
    """One content type feeding an index. ``fields`` are paths into the entry's document:
    ``body``, ``seo.description``, ``sections[].body`` (``[]`` walks every item of an array);
    structured values become readable passages (:mod:`charter.retrieval.chunking`).
    ``passages`` are templates over the fields ("The {name} plan costs {price} {currency}.")."""

    type: str
    fields: list[str] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    title: str | None = None
    url: str = "/{type}/{slug}"

    @field_validator("fields")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not re.match(r"^[A-Za-z_][\w-]*(\[\])?(\.[A-Za-z_][\w-]*(\[\])?)*$", path):
                raise ValueError(f"bad field path {path!r} (use name, a.b or items[].text)")
        return value

    @model_validator(mode="after")
    def _something(self) -> Source:
        if not self.fields and not self.passages:
            raise ValueError("a source needs fields or passages")
        return self


class Index(_Model):
    sources: list[Source] = Field(min_length=1)
    description: str = ""
    chunking: Chunking | None = None
    citations: Citations = Citations()
    regulated: bool = False
    freshness_slo: float = 3600.0

    @field_validator("freshness_slo", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class Rule(_Model):
    """A declared routing rule: any keyword (whole word, case-insensitive) or the regex matches."""

    keywords: list[str] = Field(default_factory=list)
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression: {exc}") from exc
        return value


#: A registry prompt named in retrieval.yaml: ``NAME`` (labels and flags choose) or ``NAME@VERSION``.
PROMPT_REF = r"^[a-z0-9][a-z0-9_-]{0,199}(@\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?)?$"


class Intent(_Model):
    """``indexes`` are searched first. When they hold no support for a question (evidence below
    the gate), ``fallback`` indexes are searched (None: every other index of the contract; ``[]``:
    none; regulated indexes never), and the answer counts as a misroute (``route_method: fallback``)."""

    indexes: list[str] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    description: str = ""
    fallback: list[str] | None = None
    #: The registry prompt that answers this intent (default: ``answering.prompt``).
    prompt: str | None = Field(default=None, pattern=PROMPT_REF)


#: The evidence gate calibrated on the demo's golden set (docs/retrieval.md, "Calibrating the
#: evidence gate"): the least evidence score a question's best source must reach, per search mode.
DEFAULT_MIN_EVIDENCE: dict[Literal["bm25", "dense", "hybrid"], float] = {"bm25": 0.30, "dense": 0.45, "hybrid": 0.36}


class Answering(_Model):
    """``min_evidence``: the evidence gate, one number for every search mode or one per mode
    (``{bm25: 0.5, hybrid: 0.5}``; a mode left out keeps the calibrated default). The evidence of a
    question is the best calibrated score among its top sources (BM25 score over the score of an
    average source holding every question word; with dense vectors, the mean of that and the cosine
    similarity); below the gate the answer is a refusal without calling the model.
    ``top_k``: sources given to the model. ``route``: the gateway route or model (None: the
    gateway's default route, ``local`` out of the box)."""

    route: str | None = None
    #: The registry prompt that answers (``prompts/<name>.yaml``): ``NAME`` or ``NAME@VERSION``;
    #: None: the built-in wording (``charter.retrieval.answer.SYSTEM_PROMPT``).
    prompt: str | None = Field(default=None, pattern=PROMPT_REF)
    top_k: int = Field(default=4, ge=1, le=50)
    min_evidence: float | dict[Literal["bm25", "dense", "hybrid"], float] = Field(
        default_factory=lambda: dict(DEFAULT_MIN_EVIDENCE)
    )
    refusal: str = "I don't know based on the provided sources."

    @field_validator("min_evidence")
    @classmethod
    def _in_range(cls, value: float | dict[str, float]) -> float | dict[str, float]:
        for v in [value] if isinstance(value, int | float) else list(value.values()):
            if not 0.0 <= v <= 1.0:
                raise ValueError("min_evidence must be between 0 and 1")
        return value

    def threshold(self, mode: str) -> float:
        """The evidence gate for a search ``mode`` (bm25, dense or hybrid)."""
        if isinstance(self.min_evidence, int | float):
            return float(self.min_evidence)
        known = {str(k): v for k, v in DEFAULT_MIN_EVIDENCE.items()}
        known.update({str(k): v for k, v in self.min_evidence.items()})
        return float(known.get(mode, DEFAULT_MIN_EVIDENCE["bm25"]))


SynonymRule = str | list[str]


class Synonyms(_Model):
    """Query-time synonyms (:mod:`charter.retrieval.synonyms`), per language, in Solr's format:
    ``"yearly, annual"`` (equivalent) or ``"money back => refund"`` (one-way), or a list of
    equivalent words. ``builtin``: also use the shipped rules for common web and SaaS words."""

    builtin: bool = True
    en: list[SynonymRule] = Field(default_factory=list)
    de: list[SynonymRule] = Field(default_factory=list)
    fr: list[SynonymRule] = Field(default_factory=list)
    es: list[SynonymRule] = Field(default_factory=list)
    it: list[SynonymRule] = Field(default_factory=list)
    nl: list[SynonymRule] = Field(default_factory=list)
    pt: list[SynonymRule] = Field(default_factory=list)
    sv: list[SynonymRule] = Field(default_factory=list)
    da: list[SynonymRule] = Field(default_factory=list)

    @field_validator("en", "de", "fr", "es", "it", "nl", "pt", "sv", "da")
    @classmethod
    def _rules(cls, value: list[SynonymRule]) -> list[SynonymRule]:
        from charter.retrieval.synonyms import parse_rule

        for rule in value:
            parse_rule(rule)
        return value

    def lexicon(self) -> Any:
        """The :class:`~charter.retrieval.synonyms.Lexicon` these rules make."""
        from charter.retrieval.synonyms import lexicon_from

        own = {lang: rules for lang, rules in self.model_dump(exclude={"builtin"}).items() if rules}
        return lexicon_from(self.builtin, own)


class Contract(_Model):
    version: Literal[1] = 1
    mode: Literal["bm25", "dense", "hybrid"] = "hybrid"
    #: ``auto`` uses dense vectors when the ``charter[embeddings]`` extra is installed; ``on`` fails
    #: start-up without it; ``off`` never loads it.
    dense: Literal["auto", "on", "off"] = "auto"
    chunking: Chunking = Chunking()
    indexes: dict[str, Index] = Field(min_length=1)
    intents: dict[str, Intent] = Field(min_length=1)
    default_intent: str | None = None
    answering: Answering = Answering()
    synonyms: Synonyms = Synonyms()
    rrf_k: int = Field(default=60, ge=1)

    @field_validator("dense", mode="before")
    @classmethod
    def _yaml_switch(cls, value: Any) -> Any:
        # YAML 1.1 reads a bare on/off as a boolean.
        if isinstance(value, bool):
            return "on" if value else "off"
        return value

    def chunking_for(self, index: str) -> Chunking:
        return self.indexes[index].chunking or self.chunking

    def indexes_for_type(self, type_name: str) -> list[tuple[str, Source]]:
        return [(name, s) for name, idx in self.indexes.items() for s in idx.sources if s.type == type_name]

    def fallback_indexes(self, intent: str) -> list[str]:
        """The indexes an intent falls back to when its own hold no support for a question: its
        ``fallback`` (default: every other index), never a regulated index it does not name (a
        fallback cannot pull regulated text into another intent's answer, see
        :mod:`charter.retrieval.regulated`)."""
        spec = self.intents[intent]
        allowed = spec.fallback if spec.fallback is not None else list(self.indexes)
        return [name for name in allowed if name not in spec.indexes and not self.indexes[name].regulated]

    @property
    def fallback_intent(self) -> str:
        return self.default_intent or next(iter(self.intents))


@dataclass(frozen=True)
class LoadedContract:
    contract: Contract
    path: Path


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping key and sequence item."""


def _lines(node: yaml.Node, pointer: str, out: dict[str, int]) -> None:
    out[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _lines(value, f"{pointer}/{key.value}", out)
            out[f"{pointer}/{key.value}"] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, f"{pointer}/{i}", out)


def _line_for(lines: dict[str, int], pointer: str) -> int | None:
    while pointer:
        if pointer in lines:
            return lines[pointer]
        pointer = pointer.rsplit("/", 1)[0]
    return lines.get("")


def parse_contract(text: str, file: str = "retrieval.yaml", registry: Registry | None = None) -> Contract:
    """Parse and validate contract text; raise :class:`ValidationFailed` listing every problem."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ValidationFailed(
            detail=f"{file}: not valid YAML{where}",
            errors=[ErrorDetail("", f"{exc}", "yaml", file)],
        ) from exc
    lines: dict[str, int] = {}
    if node is not None:
        _lines(node, "", lines)
    if not isinstance(data, dict):
        raise ValidationFailed(
            detail=f"{file}: the retrieval contract must be a mapping",
            errors=[ErrorDetail("", "expected a mapping with indexes and intents", "type", file)],
        )
    errors: list[ErrorDetail] = []
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            pointer = "/" + "/".join(str(p) for p in err["loc"]) if err["loc"] else ""
            line = _line_for(lines, pointer)
            where = f"line {line}: " if line else ""
            errors.append(ErrorDetail(pointer, where + err["msg"], err["type"], file))
        raise ValidationFailed(detail=f"{file}: invalid retrieval contract", errors=errors) from None
    errors.extend(_check_references(contract, lines, file, registry))
    if errors:
        raise ValidationFailed(detail=f"{file}: invalid retrieval contract", errors=errors)
    return contract


def _check_references(
    contract: Contract, lines: dict[str, int], file: str, registry: Registry | None
) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []

    def err(pointer: str, message: str, keyword: str) -> None:
        line = _line_for(lines, pointer)
        errors.append(ErrorDetail(pointer, (f"line {line}: " if line else "") + message, keyword, file))

    for name in contract.indexes:
        if not re.match(_NAME, name):
            err(f"/indexes/{name}", f"index name {name!r} must match {_NAME}", "pattern")
    for name, index in contract.indexes.items():
        chunking = contract.chunking_for(name)
        if chunking.overlap >= chunking.max_tokens:
            err(f"/indexes/{name}/chunking/overlap", "overlap must be smaller than max_tokens", "range")
        for i, source in enumerate(index.sources):
            if registry is None:
                continue
            if source.type not in registry.types:
                known = ", ".join(sorted(registry.types))
                err(
                    f"/indexes/{name}/sources/{i}/type",
                    f"unknown content type {source.type!r} (known: {known})",
                    "reference",
                )
                continue
            props = registry.types[source.type].schema.get("properties", {})
            for j, path in enumerate(source.fields):
                top = path.split(".")[0].removesuffix("[]")
                if props and top not in props:
                    err(
                        f"/indexes/{name}/sources/{i}/fields/{j}",
                        f"content type {source.type!r} has no field {top!r}",
                        "reference",
                    )
            for j, passage in enumerate(source.passages):
                templates = [passage.text] if isinstance(passage.text, str) else list(passage.text.values())
                for used in sorted({f for t in templates for f in re.findall(r"{([A-Za-z_][\w-]*)}", t)}):
                    if props and used not in props:
                        err(
                            f"/indexes/{name}/sources/{i}/passages/{j}/text",
                            f"content type {source.type!r} has no field {used!r}",
                            "reference",
                        )
    if contract.chunking.overlap >= contract.chunking.max_tokens:
        err("/chunking/overlap", "overlap must be smaller than max_tokens", "range")
    seen_examples: dict[str, str] = {}
    for name, intent in contract.intents.items():
        for i, index_name in enumerate(intent.indexes):
            if index_name not in contract.indexes:
                err(
                    f"/intents/{name}/indexes/{i}",
                    f"unknown index {index_name!r} (declared: {', '.join(contract.indexes)})",
                    "reference",
                )
        for i, index_name in enumerate(intent.fallback or []):
            if index_name not in contract.indexes:
                err(
                    f"/intents/{name}/fallback/{i}",
                    f"unknown index {index_name!r} (declared: {', '.join(contract.indexes)})",
                    "reference",
                )
        for i, example in enumerate(intent.examples):
            other = seen_examples.get(example.strip().lower())
            if other and other != name:
                err(f"/intents/{name}/examples/{i}", f"example also labelled {other!r}", "duplicate")
            seen_examples[example.strip().lower()] = name
    if contract.default_intent is not None and contract.default_intent not in contract.intents:
        err("/default_intent", f"unknown intent {contract.default_intent!r}", "reference")
    return errors


def load_contract(path: str | Path, registry: Registry | None = None) -> Contract:
    """Load ``retrieval.yaml`` from ``path``. Raises :class:`ConfigError` when the file is missing and
    :class:`ValidationFailed` (file, pointer, line) when it is invalid."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"retrieval contract not found: {path}")
    return parse_contract(path.read_text(encoding="utf-8"), str(path), registry)


def contract_path(rt: Runtime) -> Path:
    return Path(rt.settings.project_dir) / "retrieval.yaml"
