"""Intent routing: which indexes a question may search.

Declared rules (keywords, regular expressions) decide first, in the order intents are declared.
Otherwise a nearest-centroid classifier over the contract's labelled examples decides: each
example is a TF-IDF vector of stemmed words, each intent's centroid the normalised mean of its
examples, and the question goes to the most cosine-similar centroid. With no similarity at all
the contract's default intent applies. :func:`routing_accuracy` measures the classifier by
leave-one-out over the labelled examples (rules are reported separately).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from charter.retrieval.contract import Contract
from charter.retrieval.text import tokenizer_for

Vector = dict[str, float]


@dataclass(frozen=True)
class RouteDecision:
    intent: str
    indexes: list[str]
    method: str  # rule | classifier | default | explicit
    score: float = 0.0


def _norm(vec: Vector) -> Vector:
    length = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / length for k, v in vec.items()} if length else {}


def _cos(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


@dataclass
class CentroidClassifier:
    """Nearest centroid over TF-IDF vectors of labelled examples."""

    examples: list[tuple[str, str]]  # (text, intent)
    language: str = "en"
    _idf: dict[str, float] = field(default_factory=dict)
    _centroids: dict[str, Vector] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tok = tokenizer_for(self.language)
        docs = [(set(tok(text)), intent) for text, intent in self.examples]
        df: Counter[str] = Counter(t for words, _ in docs for t in words)
        n = max(1, len(docs))
        self._idf = {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
        sums: dict[str, Vector] = {}
        for text, intent in self.examples:
            vec = self.vector(text)
            acc = sums.setdefault(intent, {})
            for k, v in vec.items():
                acc[k] = acc.get(k, 0.0) + v
        self._centroids = {intent: _norm(vec) for intent, vec in sums.items()}

    def vector(self, text: str) -> Vector:
        counts = Counter(tokenizer_for(self.language)(text))
        return _norm({t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in counts.items() if t in self._idf})

    def predict(self, text: str) -> tuple[str | None, float]:
        vec = self.vector(text)
        best, best_score = None, 0.0
        for intent, centroid in self._centroids.items():
            score = _cos(vec, centroid)
            if score > best_score:
                best, best_score = intent, score
        return best, best_score


class Router:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._rules = [
            (
                name,
                [re.compile(rf"\b{re.escape(k)}\b", re.IGNORECASE) for k in rule.keywords]
                + ([re.compile(rule.pattern, re.IGNORECASE)] if rule.pattern else []),
            )
            for name, intent in contract.intents.items()
            for rule in intent.rules
        ]

    @cached_property
    def classifier(self) -> CentroidClassifier:
        return CentroidClassifier(
            [(text, name) for name, intent in self.contract.intents.items() for text in intent.examples]
        )

    def rule_match(self, question: str) -> str | None:
        for name, patterns in self._rules:
            if any(p.search(question) for p in patterns):
                return name
        return None

    def route(self, question: str, intent: str | None = None) -> RouteDecision:
        intents = self.contract.intents
        if intent is not None:
            return RouteDecision(intent, list(intents[intent].indexes), "explicit", 1.0)
        by_rule = self.rule_match(question)
        if by_rule:
            return RouteDecision(by_rule, list(intents[by_rule].indexes), "rule", 1.0)
        predicted, score = self.classifier.predict(question)
        if predicted is not None:
            return RouteDecision(predicted, list(intents[predicted].indexes), "classifier", score)
        fallback = self.contract.fallback_intent
        return RouteDecision(fallback, list(intents[fallback].indexes), "default", 0.0)


@dataclass(frozen=True)
class RoutingReport:
    accuracy: float
    n: int
    per_intent: dict[str, float]
    confusion: dict[str, dict[str, int]]


def routing_accuracy(contract: Contract, cases: list[tuple[str, str]] | None = None) -> RoutingReport:
    """Accuracy of routing. With ``cases`` ((question, expected intent) pairs) the full router is
    scored on them; without, the classifier alone is scored leave-one-out on the labelled examples."""
    confusion: dict[str, dict[str, int]] = {}
    if cases is None:
        examples = [(t, name) for name, i in contract.intents.items() for t in i.examples]
        results = []
        for n, (text, truth) in enumerate(examples):
            rest = examples[:n] + examples[n + 1 :]
            predicted, _ = CentroidClassifier(rest).predict(text)
            results.append((truth, predicted or contract.fallback_intent))
    else:
        router = Router(contract)
        results = [(truth, router.route(q).intent) for q, truth in cases]
    for truth, predicted in results:
        row = confusion.setdefault(truth, {})
        row[predicted] = row.get(predicted, 0) + 1
    n = len(results)
    correct = sum(1 for t, p in results if t == p)
    per_intent = {t: row.get(t, 0) / sum(row.values()) for t, row in confusion.items()}
    return RoutingReport(correct / n if n else 0.0, n, per_intent, confusion)
