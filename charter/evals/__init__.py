"""The evaluation harness: golden datasets, metrics (plugins), a runner, JSON + HTML reports and a
baseline gate for CI. Entry points: :func:`charter.evals.runner.run_eval` and ``charter eval``."""
