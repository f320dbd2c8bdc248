"""Default plugin: the built-in ``charter`` commands and command groups.

Each group is a ``typer.Typer`` in ``charter/cli/commands/<domain>.py``; its help is set here, where
``charter --help`` lists it. Command modules import their domain's code inside each command, so
loading them all (as ``charter --help`` does) stays cheap (``tests/test_public_api.py``).
"""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_cli_commands(register: Register) -> None:
    from charter.cli.commands import (
        audit,
        budgets,
        ci,
        content,
        contracts,
        deploy,
        doctor,
        evals,
        index,
        metrics,
        previews,
        project,
        prompts,
        releases,
        review,
        rollback,
        schema,
        serve,
        tokens,
        tools,
        types,
        users,
        webhooks,
        worker,
    )

    register("init", project.init)
    register("serve", serve.serve)
    register("ci", ci.ci)
    register("worker", worker.worker)
    register("doctor", doctor.doctor)
    content.app.command()(rollback.rollback)  # `charter content rollback`
    for name, group, help_text in (
        ("schema", schema.app, "Content types: validate, diff, check."),
        ("content", content.app, "Entries: import, export, rollback."),
        ("tokens", tokens.app, "API tokens (create, list, revoke) and design tokens."),
        ("contracts", contracts.app, "Consumer-driven contracts: check, verify."),
        ("prompts", prompts.app, "Prompt registry: list, show, diff, promote, rollback."),
        ("tools", tools.app, "Tool registry: list, show, diff, check."),
        ("audit", audit.app, "Audit records: charter audit llm list|show (gateway calls)."),
        ("eval", evals.app, "Evaluation harness: run, compare."),
        ("index", index.app, "Retrieval indexes: rebuild, status."),
        ("users", users.app, "Web admin users: create, list, set-role, set-password, disable."),
        ("metrics", metrics.app, "Maintainability metrics and DORA: report, series, list."),
        ("deploy", deploy.app, "Record deployments and incidents (DORA inputs)."),
        ("budgets", budgets.app, "Performance budgets: check, validate."),
        ("releases", releases.app, "Releases: create, review, schedule, publish, roll back, preview."),
        ("previews", previews.app, "Preview tokens: create, list, revoke."),
        ("review", review.app, "Human review queue: list, show, claim, label, export, check."),
        ("webhooks", webhooks.app, "Webhook subscriptions, the delivery log, replay."),
        ("types", types.app, "Front-end types generated from content types (TypeScript)."),
    ):
        group.info.help = help_text
        register(name, group)
