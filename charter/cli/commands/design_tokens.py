"""``charter tokens build|validate|diff|divergence``: the design-token commands.

Thin doors into :mod:`charter.tokens` (build, versioning, divergence). Imports stay inside the
commands so ``charter tokens build`` never loads the web stack or the database; ``--record``
alone opens the project's database to log the event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from charter.exceptions import CharterError

app = typer.Typer(no_args_is_help=True, help="Design tokens: build, validate, diff, divergence.")

SourcesArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Token files, a resolver document or a folder (default: ./tokens).", show_default=False),
]
ThemeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--theme", "-t", help="Build only this theme: a name (acme-dark) or inputs (brand=acme,mode=dark). Repeatable."
    ),
]
ProjectOpt = Annotated[
    Path | None,
    typer.Option("--project", help="Charter project folder for --record (default: ./ if it has charter.toml)."),
]
RecordOpt = Annotated[bool, typer.Option("--record", help="Record the result as an event in the project's database.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def _sources(sources: list[Path] | None) -> list[Path]:
    if sources:
        return sources
    default = Path("tokens")
    if default.exists():
        return [default]
    raise CharterError(detail="no token sources given and ./tokens does not exist")


def _run(fn: Callable[[], Any]) -> Any:
    """Library errors -> a clear message on stderr and exit 1 (also when the app is invoked
    directly, without the root CLI's error handler)."""
    try:
        return fn()
    except CharterError as exc:
        typer.echo(f"error: {exc}", err=True)
        for e in exc.errors:
            where = f"{e.file}#{e.pointer}" if e.file else (e.pointer or "/")
            typer.echo(f"  {where}: {e.message}", err=True)
        raise typer.Exit(1) from None


def _record(project: Path | None, event_type: str, payload: dict[str, Any]) -> None:
    from charter.tokens.metrics import find_project, record

    project_dir = find_project(project)
    if project_dir is None:
        raise CharterError(detail="--record needs --project DIR or a charter.toml in the current folder")
    event_id = record(project_dir, event_type, payload)
    typer.echo(f"recorded {event_type} event {event_id} in {project_dir}", err=True)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@app.command()
def build(
    sources: SourcesArg = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (the npm package); replaced as a whole.")
    ] = Path("dist/tokens"),
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format", "-f", help="Formats: css, scss, js, ts, json, npm (repeatable or comma-separated; default all)."
        ),
    ] = None,
    theme: ThemeOpt = None,
    references: Annotated[
        bool, typer.Option("--references", help="Keep aliases as var(--…) in CSS and $vars in SCSS.")
    ] = False,
    prefix: Annotated[str, typer.Option(help="Prefix for CSS custom properties and SCSS variables.")] = "",
    selector: Annotated[
        str, typer.Option(help="CSS selector per theme; {theme} is replaced by the theme name.")
    ] = ":root",
    color_format: Annotated[
        str, typer.Option("--color-format", help="auto (keep wide-gamut spaces) or hex (sRGB everywhere).")
    ] = "auto",
    name: Annotated[
        str | None, typer.Option(help="npm package name (default: from the last release, else design-tokens).")
    ] = None,
    description: Annotated[str, typer.Option(help="npm package description.")] = "Design tokens",
    contrast: Annotated[
        Path | None, typer.Option(help="Contrast pairs file (default: contrast.json beside the sources).")
    ] = None,
    aaa: Annotated[bool, typer.Option("--aaa", help="Check every contrast pair at WCAG AAA.")] = False,
    release_file: Annotated[
        Path | None, typer.Option(help="Last released snapshot (default: release.json beside the sources).")
    ] = None,
    release: Annotated[
        bool, typer.Option("--release", help="Write the new snapshot: bump the version and the changelog.")
    ] = False,
    value_change: Annotated[str, typer.Option(help="Semver bump for a changed value: patch or minor.")] = "patch",
    initial_version: Annotated[str, typer.Option(help="Version of the first release.")] = "1.0.0",
    as_json: JsonOpt = False,
    project: ProjectOpt = None,
    record: RecordOpt = False,
) -> None:
    """Build tokens into CSS, SCSS, JS, TypeScript, JSON and an npm package, per theme."""

    def go() -> None:
        from charter.tokens.build import BuildOptions
        from charter.tokens.build import build as run_build

        opts = BuildOptions(
            sources=_sources(sources),
            out=out,
            formats=_split(formats) or ["css", "scss", "js", "ts", "json", "npm"],
            themes=theme or None,
            css_references=references,
            prefix=prefix,
            selector=selector,
            color_mode=color_format,
            name=name,
            description=description,
            contrast_file=contrast,
            aaa=aaa,
            release_file=release_file,
            release=release,
            value_change=value_change,
            initial_version=initial_version,
        )
        result = run_build(opts)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            bump = f" ({result.bump} bump from {result.previous})" if result.previous else ""
            typer.echo(
                f"built {result.tokens} tokens in {len(result.themes)} theme(s) "
                f"[{', '.join(result.themes)}] -> {result.out} ({len(result.files)} files), "
                f"version {result.version}{bump}"
            )
            if result.contrast:
                typer.echo(f"contrast: {len(result.contrast)} checks passed")
            if result.released:
                typer.echo(f"released {result.version}: wrote {result.release_file}")
        if record:
            from charter.events import TOKENS_BUILT
            from charter.tokens.metrics import built_payload

            _record(project, TOKENS_BUILT, built_payload(result))

    _run(go)


@app.command()
def validate(
    sources: SourcesArg = None,
    theme: ThemeOpt = None,
    contrast: Annotated[
        Path | None, typer.Option(help="Contrast pairs file (default: contrast.json beside the sources).")
    ] = None,
    aaa: Annotated[bool, typer.Option("--aaa", help="Check every contrast pair at WCAG AAA.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check token files, the resolver and contrast pairs without writing anything."""

    def go() -> None:
        from charter.tokens.build import BuildOptions
        from charter.tokens.build import build as run_build

        result = run_build(
            BuildOptions(sources=_sources(sources), themes=theme or None, contrast_file=contrast, aaa=aaa)
        )
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            typer.echo(
                f"ok: {result.tokens} tokens in {len(result.themes)} theme(s), "
                f"{len(result.contrast)} contrast checks passed"
            )

    _run(go)


@app.command()
def diff(
    sources: SourcesArg = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="Release snapshot to compare with (default: release.json beside the sources)."),
    ] = None,
    theme: ThemeOpt = None,
    value_change: Annotated[str, typer.Option(help="Semver bump for a changed value: patch or minor.")] = "patch",
    as_json: JsonOpt = False,
) -> None:
    """Compare tokens with the last release: changes, semver bump and next version."""

    def go() -> None:
        from charter.tokens import versioning
        from charter.tokens.themes import load_themes

        src, themes = load_themes(_sources(sources), theme or None)
        release_path = against or (src.base_dir / "release.json")
        if against is not None and not against.is_file():
            raise CharterError(detail=f"{against}: no such release snapshot")
        d, _, _ = versioning.plan(themes, release_path, value_change=value_change)
        if as_json:
            typer.echo(json.dumps(d.to_dict(), indent=2))
            return
        if d.previous is None:
            typer.echo(f"no release snapshot at {release_path}: the first release will be {d.version}")
            return
        typer.echo(f"{d.previous} -> {d.version} ({d.bump})")
        for c in d.changes:
            detail = f"  {c.detail}" if c.detail else ""
            typer.echo(f"  {c.bump:5}  {c.kind:13} {c.path}{detail}  [{', '.join(c.themes)}]")
        if not d.changes:
            typer.echo("  no changes")

    _run(go)


@app.command()
def divergence(
    paths: Annotated[
        list[str], typer.Argument(help="App folders or files to scan; NAME=PATH names an app.", show_default=False)
    ],
    tokens: Annotated[
        Path | None, typer.Option("--tokens", help="Token sources: tells token names, and base tokens, apart.")
    ] = None,
    base_prefix: Annotated[
        list[str] | None, typer.Option("--base-prefix", help="Path prefix of base tokens (default: base).")
    ] = None,
    package: Annotated[
        list[str] | None,
        typer.Option("--package", help="Import source of the token package (default: any '…tokens…')."),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Fail when an app diverges more than this percent.")] = 5.0,
    output: Annotated[Path | None, typer.Option("--output", help="Write the JSON report to this file.")] = None,
    as_json: JsonOpt = False,
    show: Annotated[int, typer.Option(help="Offending lines to print per app.")] = 20,
    project: ProjectOpt = None,
    record: RecordOpt = False,
) -> None:
    """Measure hard-coded values and base-token use against token usage, per app and file."""

    def go() -> int:
        from charter.tokens.divergence import ScanOptions, scan

        report = scan(
            ScanOptions(
                paths=paths,
                tokens=tokens,
                base_prefixes=_split(base_prefix) or ["base"],
                packages=_split(package),
                threshold=threshold,
            )
        )
        data = report.to_dict()
        if output is not None:
            from charter.tokens.build import write_file_atomic

            write_file_atomic(output, json.dumps(data, indent=2) + "\n")
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            for app_report in report.apps:
                flag = "FAIL" if app_report.percent > threshold else "ok"
                typer.echo(
                    f"{flag:4} {app_report.name}: {app_report.percent:.1f}% divergent "
                    f"({app_report.divergent}/{app_report.counted} declarations, {len(app_report.files)} files)"
                )
                for f in app_report.offenders[:show]:
                    typer.echo(f"       {f.file}:{f.line}: {f.property}: {f.value}  [{f.kind}]")
                if len(app_report.offenders) > show:
                    typer.echo(f"       … {len(app_report.offenders) - show} more")
            typer.echo(f"total: {report.total_percent:.1f}% (threshold {threshold:g}%)")
        if record:
            from charter.events import TOKENS_DIVERGENCE

            _record(project, TOKENS_DIVERGENCE, report.event_payload())
        return 1 if report.failed else 0

    code = _run(go)
    if code:
        raise typer.Exit(code)
