"""Management API for schema evolution: the registry, the schema check, migrations and rollbacks.

Thin doors into :mod:`charter.schemas.releases`, :mod:`charter.schemas.compat.check` and
:mod:`charter.content.actions.migrate`, for the admin and for tools that should not shell out to
``charter schema``. Reads need the ``read`` permission; running or rolling back a migration needs
``publish`` (it rewrites and republishes content). A migration is named by its file in the
project's ``migrations/`` folder, so what runs is what is reviewed in git.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from charter.auth.deps import require
from charter.auth.roles import Actor, Permission
from charter.exceptions import BadRequest, ConfigError, NotFound, ValidationFailed
from charter.http.routes import CharterRoute
from charter.observability.errors import WRITE_RESPONSES
from charter.runtime import Runtime

router = APIRouter(prefix="/v1/manage", tags=["schema evolution"], route_class=CharterRoute)

MIGRATION_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.ya?ml$")


class SchemaChangeOut(BaseModel):
    pointer: str = Field(description="RFC 6901 pointer into the new schema (the old one for removals).")
    kind: str = Field(examples=["required.added"])
    message: str
    breaks_backward: bool = Field(description="Stored content may stop validating.")
    breaks_forward: bool = Field(description="Consumers of the old schema may not understand new content.")
    level: str = Field(description="patch, minor or major under the type's policy.")


class SchemaReleaseOut(BaseModel):
    schema_id: str = Field(examples=["page.v2"])
    version: str = Field(examples=["2.0.0"])
    released_at: str | None
    released_by: str
    previous_version: str | None
    declared_bump: str | None = Field(description="new, none, patch, minor or major.")
    required_bump: str | None = Field(description="What the changes require: none, patch, minor or major.")
    semver_ok: bool | None
    breaking: int = Field(description="How many changes are major (breaking) under the policy.")
    changes: list[SchemaChangeOut]
    error: str | None = None


class SchemaTypeOut(BaseModel):
    name: str
    domain: str
    policy: str
    schema_id: str
    version: str
    released: bool = Field(description="The working-tree version is in the registry.")
    drift: bool = Field(description="The working-tree file differs from the registered schema of that version.")
    releases: list[SchemaReleaseOut]


class SchemaRegistryOut(BaseModel):
    items: list[SchemaTypeOut]


class SchemaCheckProblemOut(BaseModel):
    kind: str
    message: str
    changes: list[SchemaChangeOut]


class SchemaTypeCheckOut(BaseModel):
    name: str
    schema_id: str
    version: str
    policy: str
    domain: str
    status: str = Field(description="new, unchanged, ok or failed.")
    declared_bump: str
    required_bump: str
    changes: list[SchemaChangeOut]
    problems: list[SchemaCheckProblemOut]
    notes: list[str]


class SchemaCheckOut(BaseModel):
    ok: bool
    baseline: str
    notes: list[str] = Field(default_factory=list)
    types: list[SchemaTypeCheckOut]
    contracts: dict[str, Any] | None = Field(description="The static contract checks (as `charter contracts check`).")
    content: dict[str, Any] | None = Field(description="With content=true: every stored entry against the new schemas.")


class MigrationRunOut(BaseModel):
    id: int
    content_type: str
    from_: str = Field(alias="from", examples=["page.v1"])
    to: str = Field(examples=["page.v2"])
    to_version: str
    file: str
    status: str = Field(description="applied or rolled_back.")
    entries: int
    applied_at: str
    applied_by: str
    sunset: str | None
    rolled_back_at: str | None
    operations: list[Any]


class MigrationFileOut(BaseModel):
    name: str = Field(description="The file name in migrations/, as POST /v1/manage/migrations takes it.")
    content_type: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    sunset: str | None = None
    description: str | None = None
    operations: list[Any] = Field(default_factory=list)
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Why the file cannot be used, if it can't.")


class MigrationsOut(BaseModel):
    runs: list[MigrationRunOut] = Field(description="Migration runs, newest first.")
    files: list[MigrationFileOut] = Field(description="Migration files in the project's migrations/ folder.")


class MigrationRequest(BaseModel):
    migration: str = Field(
        description="A file in the project's migrations/ folder.",
        examples=["page.v2.yaml"],
        max_length=130,
        pattern=MIGRATION_FILE.pattern,
    )
    dry_run: bool = Field(
        default=True, description="Report what would happen and write nothing (the default); false applies it."
    )


class MigrationEntryPlanOut(BaseModel):
    entry_id: str
    slug: str | None
    current_revision: int
    published_revision: int | None
    status: str = Field(description="ok, fails or skipped.")
    skipped: str | None
    errors: list[dict[str, Any]]


class MigrationPlanOut(BaseModel):
    migration: dict[str, Any]
    ok: bool
    entries: list[MigrationEntryPlanOut]
    counts: dict[str, int] = Field(examples=[{"migrate": 4, "fail": 0, "skip": 0}])


class MigrationOutcome(BaseModel):
    dry_run: bool
    ok: bool = Field(description="Every entry can be (dry run) or was (apply) migrated.")
    plan: MigrationPlanOut | None = Field(description="The dry run, entry by entry (dry runs only).")
    run: MigrationRunOut | None = Field(description="The applied run (applies only).")


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


@router.get(
    "/schemas",
    operation_id="listSchemaReleases",
    response_model=SchemaRegistryOut,
    responses=WRITE_RESPONSES,
    summary="The schema registry: every content type with its released versions and their changes",
)
async def list_schema_releases(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    type: Annotated[str | None, Query(max_length=100, description="Only this content type.")] = None,
) -> Response:
    from charter.schemas.releases import registry_status

    rt = _rt(request)
    status = await run_in_threadpool(registry_status, rt)
    if type is not None:
        status = [s for s in status if s.name == type]
        if not status:
            raise NotFound(f"unknown content type {type[:80]!r}")
    return _json({"items": [s.to_dict() for s in status]})


@router.get(
    "/schemas/check",
    operation_id="checkSchemas",
    response_model=SchemaCheckOut,
    responses=WRITE_RESPONSES,
    summary="`charter schema check` against the registry: changes, semver, contracts, optionally content",
    description="200 when the check ran (`ok` says whether it passed); 422 naming the file when a schema, "
    "contract or migration file of the project cannot be read.",
)
async def check_schemas(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    content: Annotated[bool, Query(description="Also validate every stored entry (a dry run).")] = False,
    contracts: Annotated[bool, Query(description="Run the static contract checks.")] = True,
) -> Response:
    from charter.content.schema_check import run_schema_check

    rt = _rt(request)

    def run() -> dict[str, Any]:
        try:
            return run_schema_check(rt.settings, content=content, contracts=contracts).to_dict()
        except ConfigError as exc:  # a project file (schema, contract, migration) that cannot be read
            raise ValidationFailed(detail=f"the check cannot run: {exc.detail}", errors=exc.errors)

    return _json(await run_in_threadpool(run))


def _migration_files(rt: Runtime) -> list[dict[str, Any]]:
    from charter.schemas.migrations import MigrationFileError, load_migration, operation_factories

    directory = rt.settings.project_dir / "migrations"
    if not directory.is_dir():
        return []
    factories = operation_factories(rt.plugins)
    out = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            m = load_migration(path, factories).to_dict()
        except MigrationFileError as exc:
            m = {"errors": [e.to_dict() for e in exc.errors]}
        m.pop("file", None)
        out.append(MigrationFileOut.model_validate({"name": path.name, **m}).model_dump(by_alias=True))
    return out


@router.get(
    "/migrations",
    operation_id="listMigrations",
    response_model=MigrationsOut,
    responses=WRITE_RESPONSES,
    summary="Migration runs (newest first) and the project's migration files",
)
async def list_migrations(
    request: Request,
    actor: Annotated[Actor, Depends(require(Permission.READ))],
    content_type: Annotated[str | None, Query(max_length=100, description="Only runs of this content type.")] = None,
) -> Response:
    from charter.content.actions.migrate import list_runs

    rt = _rt(request)
    runs = await run_in_threadpool(list_runs, rt, content_type)
    files = await run_in_threadpool(_migration_files, rt)
    return _json({"runs": [r.to_dict() for r in runs], "files": files})


@router.get(
    "/migrations/{run_id}",
    operation_id="getMigrationRun",
    response_model=MigrationRunOut,
    responses=WRITE_RESPONSES,
    summary="One migration run",
)
async def get_migration_run(
    request: Request,
    run_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    actor: Annotated[Actor, Depends(require(Permission.READ))],
) -> Response:
    from charter.content.actions.migrate import get_run

    rt = _rt(request)

    def run() -> dict[str, Any]:
        with rt.read() as conn:
            return get_run(conn, run_id).to_dict()

    return _json(await run_in_threadpool(run))


def _load(rt: Runtime, name: str) -> Any:
    from charter.schemas.migrations import MigrationFileError, load_migration, operation_factories

    if not MIGRATION_FILE.match(name):
        raise BadRequest(f"{name[:80]!r} is not a migration file name such as 'page.v2.yaml' (no folders)")
    path = rt.settings.project_dir / "migrations" / name
    if not path.is_file():
        raise NotFound(f"no migration file migrations/{name} in the project")
    try:
        return load_migration(path, operation_factories(rt.plugins))
    except MigrationFileError as exc:
        raise ValidationFailed(detail=exc.detail, errors=exc.errors)


@router.post(
    "/migrations",
    operation_id="runMigration",
    response_model=MigrationOutcome,
    responses={**WRITE_RESPONSES, 201: {"description": "Applied", "model": MigrationOutcome}},
    summary="Dry-run (default) or apply a migration to every entry of its content type",
    description=(
        "With `dry_run: true` (the default) nothing is written and the answer is 200 with the plan, entry by "
        "entry (`ok: false` when some entry would fail). With `dry_run: false` the migration is applied all or "
        "nothing: 201 with the run, or 422 listing every entry that fails (nothing written), or 409 when it is "
        "already applied."
    ),
)
async def run_migration(
    request: Request, body: MigrationRequest, actor: Annotated[Actor, Depends(require(Permission.PUBLISH))]
) -> Response:
    from charter.content.actions.migrate import apply_migration, plan_migration

    rt = _rt(request)
    migration = await run_in_threadpool(_load, rt, body.migration)
    if body.dry_run:
        plan = await run_in_threadpool(plan_migration, rt, migration)
        return _json({"dry_run": True, "ok": plan.ok, "plan": plan.to_dict(), "run": None})
    run = await run_in_threadpool(apply_migration, rt, actor, migration)
    return _json(
        {"dry_run": False, "ok": True, "plan": None, "run": run.to_dict()},
        201,
        {"Location": f"/v1/manage/migrations/{run.id}"},
    )


@router.post(
    "/migrations/{run_id}/rollback",
    operation_id="rollbackMigration",
    response_model=MigrationRunOut,
    responses=WRITE_RESPONSES,
    summary="Restore every entry of a run to what it held before (all or nothing)",
    description="409 (nothing written) when an entry was edited or deleted since the migration, naming each.",
)
async def rollback_migration_run(
    request: Request,
    run_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    actor: Annotated[Actor, Depends(require(Permission.PUBLISH))],
) -> Response:
    from charter.content.actions.migrate import rollback_migration

    rt = _rt(request)
    run = await run_in_threadpool(rollback_migration, rt, actor, run_id)
    return _json(run.to_dict())
