"""``charter deploy record|incident``: record deployments and incidents (the inputs of DORA).

Locally (``--project``) they go straight into the project's database; with ``--server URL`` they
are posted to a running Charter (``POST /v1/events/deploy|incident``) with a publisher token from
``--token`` or ``$CHARTER_TOKEN``. Either way the same validation runs and a bad input records
nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from charter.cli.context import ProjectOption, open_runtime
from charter.cli.errors import fail
from charter.exceptions import BadRequest, CharterError, ErrorDetail

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)

ServerOpt = Annotated[
    str | None, typer.Option("--server", help="Post to this Charter server instead of the local database.")
]
TokenOpt = Annotated[
    str | None, typer.Option("--token", help="API token with publish permission (default $CHARTER_TOKEN).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the recorded payload as JSON.")]


def _git(repo: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        raise BadRequest(f"git is not available: {exc}") from None
    if proc.returncode != 0:
        raise BadRequest(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _changes(repo: Path, since: str, commit: str) -> list[dict[str, str]]:
    out = _git(repo, "log", "--format=%H %cI", f"{since}..{commit}")
    changes = []
    for line in out.splitlines():
        sha, _, when = line.partition(" ")
        changes.append({"sha": sha, "committed_at": when})
    return changes


def _post(server: str, token: str | None, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from charter import egress

    token = token or os.environ.get("CHARTER_TOKEN")
    if not token:
        raise BadRequest("--server needs an API token: --token or $CHARTER_TOKEN")
    url = server.rstrip("/") + path
    try:  # the operator names --server, so its host is allowed
        with egress.client(egress.Policy().trusting(server), timeout=30) as http:
            r = http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    except egress.Refused as exc:
        raise BadRequest(f"--server {server[:200]!r} is refused: {exc}") from None
    except httpx.HTTPError as exc:
        raise BadRequest(f"cannot reach {url}: {exc}") from None
    if r.status_code >= 400:
        try:
            problem = r.json()
        except ValueError:
            raise BadRequest(f"{url} answered {r.status_code}: {r.text[:300]}") from None
        raise CharterError(
            detail=f"{url} answered {r.status_code}: {problem.get('detail', problem)}",
            errors=[ErrorDetail(e.get("pointer", ""), e.get("message", "")) for e in problem.get("errors", [])],
        )
    data: dict[str, Any] = r.json()
    return data


def _local(project: Path | None, record: Any, model: Any, body: dict[str, Any]) -> dict[str, Any]:
    from charter.auth.roles import SYSTEM
    from charter.metrics.deploys import parse

    item = parse(model, body)  # validate before opening the database
    with open_runtime(project) as rt:
        out = record(rt, SYSTEM, item)
    data: dict[str, Any] = out.model_dump()
    return data


@app.command()
def record(
    commit: Annotated[str | None, typer.Option(help="Commit deployed (default: git HEAD of --repo).")] = None,
    deploy_id: Annotated[str | None, typer.Option("--id", help="Deploy id (default: a new UUID).")] = None,
    service: Annotated[str, typer.Option(help="Service or application deployed.")] = "default",
    environment: Annotated[str, typer.Option(help="Environment; DORA counts production.")] = "production",
    version: Annotated[str | None, typer.Option(help="Version label.")] = None,
    deployed_at: Annotated[str | None, typer.Option(help="RFC 3339 with offset (default now).")] = None,
    built_at: Annotated[
        str | None, typer.Option(help="When the artifact was built (build-to-deploy lead time).")
    ] = None,
    status: Annotated[str, typer.Option(help="succeeded or failed.")] = "succeeded",
    kind: Annotated[str, typer.Option(help="planned, hotfix or rollback (the last two are rework).")] = "planned",
    remediates: Annotated[
        list[str] | None, typer.Option("--remediates", help="Deploy id this one fixes or rolls back; repeatable.")
    ] = None,
    incident: Annotated[str | None, typer.Option(help="Incident this deployment responds to.")] = None,
    url: Annotated[str | None, typer.Option(help="Link to the pipeline run.")] = None,
    changes_since: Annotated[
        str | None,
        typer.Option(
            "--changes-since",
            help="Record the commits in REV..COMMIT with their times (for servers without the git history).",
        ),
    ] = None,
    repo: Annotated[Path, typer.Option(help="Git repository (for HEAD and --changes-since).")] = Path("."),
    server: ServerOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    project: ProjectOption = None,
) -> None:
    """Record a deployment."""
    from charter.metrics.deploys import DeployIn, record_deploy

    sha = commit or _git(repo, "rev-parse", "HEAD")
    body: dict[str, Any] = {
        "deploy_id": deploy_id,
        "service": service,
        "environment": environment,
        "commit": sha,
        "version": version,
        "deployed_at": deployed_at,
        "built_at": built_at,
        "status": status,
        "kind": kind,
        "remediates": remediates or [],
        "incident": incident,
        "url": url,
    }
    if changes_since:
        body["changes"] = _changes(repo, changes_since, sha)
    body = {k: v for k, v in body.items() if v is not None}
    if server:
        from charter.metrics.deploys import parse

        parse(DeployIn, body)  # the same validation, before anything leaves this machine
        out = _post(server, token, "/v1/events/deploy", body)
    else:
        out = _local(project, record_deploy, DeployIn, body)
    if as_json:
        print(json.dumps(out, indent=2))
    p = out["payload"]
    verb = "recorded" if out.get("created", True) else "already recorded"
    console.print(
        f"{verb} deployment {out['deploy_id']}: {p['service']}/{p['environment']} {p['commit'][:12]} "
        f"at {p['deployed_at']} ({p['kind']}, {p['status']})",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def incident(
    incident_id: Annotated[str | None, typer.Option("--id", help="Incident id; repeat it to update (resolve).")] = None,
    deploy_id: Annotated[str | None, typer.Option("--deploy", help="The deployment that caused it.")] = None,
    service: Annotated[str | None, typer.Option(help="Service (default: the deployment's).")] = None,
    environment: Annotated[str | None, typer.Option(help="Environment (default: the deployment's).")] = None,
    started_at: Annotated[str | None, typer.Option(help="When users were first affected (default now).")] = None,
    resolved_at: Annotated[str | None, typer.Option(help="When service was restored.")] = None,
    resolved: Annotated[bool, typer.Option("--resolved", help="Resolved now.")] = False,
    severity: Annotated[str | None, typer.Option(help="Severity label (sev1 …).")] = None,
    summary: Annotated[str | None, typer.Option(help="One line on what happened.")] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    project: ProjectOption = None,
) -> None:
    """Record a production incident, or update one (e.g. ``--id INC-7 --resolved``)."""
    from charter.metrics.deploys import IncidentIn, record_incident
    from charter.metrics.timestamps import format_timestamp

    if resolved and resolved_at:
        raise fail("give --resolved or --resolved-at, not both", 2)
    if resolved:
        from charter.events import utcnow

        resolved_at = format_timestamp(utcnow())
    body = {
        k: v
        for k, v in {
            "incident_id": incident_id,
            "deploy_id": deploy_id,
            "service": service,
            "environment": environment,
            "started_at": started_at,
            "resolved_at": resolved_at,
            "severity": severity,
            "summary": summary,
        }.items()
        if v is not None
    }
    if server:
        from charter.metrics.deploys import parse

        parse(IncidentIn, body)
        out = _post(server, token, "/v1/events/incident", body)
    else:
        out = _local(project, record_incident, IncidentIn, body)
    if as_json:
        print(json.dumps(out, indent=2))
    p = out["payload"]
    state = f"resolved at {p['resolved_at']}" if p.get("resolved_at") else "open"
    console.print(
        f"recorded incident {out['incident_id']} ({p['service']}/{p['environment']}, {state}, update {out['updates']})",
        highlight=False,
        soft_wrap=True,
    )
