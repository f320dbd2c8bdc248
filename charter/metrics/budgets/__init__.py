"""Performance budgets: ``budgets.yaml`` (JS bytes per bundle, image bytes, API latency p95 per
endpoint, LLM latency per route, Core Web Vitals and weight per page) and :func:`check_budgets`,
which measures them.

>>> budgets = load_budgets(Path("budgets.yaml"))
>>> report = check_budgets(budgets, dist=Path("dist"), api="http://127.0.0.1:8000")
>>> report.failed, [(r.name, r.budget, r.measured, r.margin) for r in report.results]
"""

from __future__ import annotations

from charter.metrics.budgets.check import BudgetReport, BudgetResult, check_budgets
from charter.metrics.budgets.config import BudgetError, Budgets, PageBudget, load_budgets, parse_budgets

__all__ = [
    "BudgetError",
    "BudgetReport",
    "BudgetResult",
    "Budgets",
    "PageBudget",
    "check_budgets",
    "load_budgets",
    "parse_budgets",
]
