"""Built-in evaluators, registered like any third-party plugin would register its own."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_evaluators(register: Register) -> None:
    from charter.evals.metrics.answers import Answers
    from charter.evals.metrics.citations import Citations
    from charter.evals.metrics.evidence import Evidence
    from charter.evals.metrics.factuality import Factuality
    from charter.evals.metrics.latency import Latency
    from charter.evals.metrics.refusal import Refusal
    from charter.evals.metrics.retrieval import Retrieval
    from charter.evals.metrics.routing import Routing
    from charter.evals.metrics.toxicity import Toxicity

    for metric in (
        Answers(),
        Evidence(),
        Factuality(),
        Citations(),
        Latency(),
        Toxicity(),
        Refusal(),
        Retrieval(),
        Routing(),
    ):
        register(metric.name, metric)
