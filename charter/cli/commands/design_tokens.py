"""``charter tokens build|validate|diff|divergence``: the design-token commands.

Thin doors into :mod:`charter.tokens` (build, versioning, divergence). These commands parse their
arguments with :mod:`argparse` and print plain text, and :func:`charter.cli.main.main` calls
:func:`main` *before* importing Typer or Rich: ``charter tokens build`` is benchmarked as a whole
process (``bench/tokens``) and must start in milliseconds. The ``charter tokens`` Typer group
(``charter.cli.commands.tokens``, which also holds the API-token commands) gets thin forwarding
commands from :data:`app`, built on first access, so ``charter tokens --help`` lists them.

Exit codes: 0 success; 1 bad input (message on stderr naming file and JSON pointer), a contrast
failure, or divergence above the threshold; 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from charter.exceptions import CharterError

#: command -> one-line help (the Typer group shows these).
COMMANDS = {
    "build": "Build tokens into CSS, SCSS, JS, TypeScript, JSON and an npm package, per theme.",
    "validate": "Check token files, the resolver and contrast pairs without writing anything.",
    "diff": "Compare tokens with the last release: changes, semver bump and next version.",
    "divergence": "Measure hard-coded values and base-token use against token usage, per app and file.",
    "changeset": "Record a release note and bump for token packages: changeset add (Changesets' .changeset/*.md).",
    "version": "Version token packages from the changesets, checked against the token diff; update changelogs.",
}
FORMATS = ("css", "scss", "js", "ts", "json", "npm")
#: built in, but only when asked for
NATIVE_FORMATS = ("android-xml", "compose", "ios", "email")


def _dumps(data: Any, indent: int | None = 2) -> str:
    import json  # only for --json and --output: the plain build path does without it

    return json.dumps(data, indent=indent)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _sources(args: argparse.Namespace) -> list[Path]:
    if args.sources:
        return [Path(s) for s in args.sources]
    base = Path(args.project) if getattr(args, "project", None) else Path(".")
    default = base / "tokens"
    if default.exists():
        return [default]
    raise CharterError(detail=f"no token sources given and {default} does not exist")


def _add_sources(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="token files, a resolver document or a folder (default: ./tokens)"
    )


def _add_theme(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-t",
        "--theme",
        action="append",
        metavar="THEME",
        help="only this theme: a name (acme-dark) or inputs (brand=acme,mode=dark); repeatable (default: every one)",
    )


def _add_contrast(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contrast", metavar="FILE", help="contrast pairs file (default: contrast.json beside the sources)")
    p.add_argument("--aaa", action="store_true", help="check every contrast pair at WCAG AAA")


def _add_record(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--record",
        action="store_true",
        help="record the result as an event in the project's database (see --project)",
    )
    p.add_argument(
        "--project",
        metavar="DIR",
        help="Charter project for --record and the default ./tokens (default: $CHARTER_PROJECT, or ./ if it "
        "holds charter.toml)",
    )


def _add_naming(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-f",
        "--format",
        action="append",
        metavar="FORMAT",
        help=f"formats to write: {', '.join(FORMATS)}, {', '.join(NATIVE_FORMATS)} or a plugin's; repeatable or "
        f"comma-separated (default: {', '.join(FORMATS)})",
    )
    p.add_argument("--prefix", default="", help="prefix for CSS custom properties and SCSS variables")
    p.add_argument(
        "--name-case",
        choices=("kebab", "camel", "snake", "preserve"),
        default="kebab",
        help="how token paths become names: kebab (color-text-default, default), camel, snake, or preserve "
        "(the names as written, joined with -)",
    )
    p.add_argument(
        "--on-collision",
        choices=("error", "suffix"),
        default="error",
        help="two tokens with one output name: error naming both (default), or suffix the later one in path "
        "order (-2, -3, …)",
    )
    p.add_argument(
        "--compat",
        action="store_true",
        help="read systems that bend DTCG 2025.10 leniently (hex strings, em/vw units, extra typography fields, "
        "a missing transition delay…): map each deviation and warn with its pointer",
    )


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, sized like it without importing ``shutil`` (argparse builds a
    formatter for every ``add_argument``, and ``shutil``'s import, with the compression modules,
    is a noticeable share of a whole ``charter tokens build``)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS``, else the terminal, else 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="charter tokens",
        description="Design tokens: build, validate, diff, divergence.",
        formatter_class=_Formatter,
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help=COMMANDS["build"], description=COMMANDS["build"], formatter_class=_Formatter)
    _add_sources(b)
    b.add_argument(
        "-o",
        "--out",
        default="dist/tokens",
        metavar="DIR",
        help="output folder, replaced as a whole (default: dist/tokens)",
    )
    _add_naming(b)
    _add_theme(b)
    b.add_argument("--references", action="store_true", help="keep aliases as var(--…) in CSS and $vars in SCSS")
    b.add_argument(
        "--selector",
        default=":root",
        help="CSS selector of each theme's block; {theme} becomes the theme name (default: :root)",
    )
    b.add_argument(
        "--color-format",
        choices=("auto", "hex"),
        default="auto",
        help="auto: sRGB as hex, wide-gamut spaces as CSS Color 4; hex: sRGB everywhere",
    )
    b.add_argument("--name", help="npm package name (default: from the last release, else design-tokens)")
    b.add_argument("--description", default="Design tokens", help="npm package description")
    _add_contrast(b)
    b.add_argument(
        "--release-file", metavar="FILE", help="last released snapshot (default: release.json beside the sources)"
    )
    b.add_argument("--release", action="store_true", help="write the new snapshot: bump the version and the changelog")
    b.add_argument(
        "--value-change",
        choices=("patch", "minor"),
        default="patch",
        help="semver bump for a changed value (default: patch)",
    )
    b.add_argument("--initial-version", default="1.0.0", help="version of the first release (default: 1.0.0)")
    b.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_record(b)

    v = sub.add_parser(
        "validate", help=COMMANDS["validate"], description=COMMANDS["validate"], formatter_class=_Formatter
    )
    _add_sources(v)
    _add_naming(v)
    _add_theme(v)
    _add_contrast(v)
    v.add_argument("--json", action="store_true", help="print the result as JSON")

    d = sub.add_parser("diff", help=COMMANDS["diff"], description=COMMANDS["diff"], formatter_class=_Formatter)
    _add_sources(d)
    d.add_argument(
        "--against", metavar="FILE", help="release snapshot to compare with (default: release.json beside the sources)"
    )
    _add_theme(d)
    d.add_argument(
        "--value-change",
        choices=("patch", "minor"),
        default="patch",
        help="semver bump for a changed value (default: patch)",
    )
    d.add_argument("--json", action="store_true", help="print the result as JSON")

    g = sub.add_parser(
        "divergence", help=COMMANDS["divergence"], description=COMMANDS["divergence"], formatter_class=_Formatter
    )
    g.add_argument("paths", nargs="+", metavar="PATH", help="app folders or files to scan; NAME=PATH names an app")
    g.add_argument(
        "--tokens",
        metavar="SOURCE",
        help="token sources: exact token names and base tokens (default: judge names by prefix)",
    )
    g.add_argument(
        "--base-prefix",
        action="append",
        metavar="GROUP",
        help="top-level group of base tokens; repeatable (default: base)",
    )
    g.add_argument(
        "--package",
        action="append",
        metavar="SPECIFIER",
        help="import specifier of the token package; repeatable (default: any containing 'token')",
    )
    g.add_argument("--prefix", default="", help="CSS custom-property prefix the token package was built with")
    g.add_argument(
        "--threshold", type=float, default=5.0, help="fail when an app diverges more than this percent (default: 5)"
    )
    g.add_argument("--exclude", action="append", metavar="GLOB", help="skip files or folders matching GLOB; repeatable")
    g.add_argument(
        "--no-default-excludes",
        action="store_true",
        help="also scan node_modules, dist, build, coverage, vendor, hidden folders, *.min.*, *.d.ts",
    )
    g.add_argument("--output", metavar="FILE", help="write the JSON report to FILE")
    g.add_argument("--json", action="store_true", help="print the JSON report")
    g.add_argument("--show", type=int, default=20, metavar="N", help="offending lines to print per app (default: 20)")
    _add_record(g)

    c = sub.add_parser(
        "changeset", help=COMMANDS["changeset"], description=COMMANDS["changeset"], formatter_class=_Formatter
    )
    csub = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    ca = csub.add_parser("add", help="write .changeset/<name>.md", formatter_class=_Formatter)
    ca.add_argument(
        "-p",
        "--package",
        action="append",
        metavar="NAME[=BUMP]",
        help="package to release, repeatable; NAME=BUMP gives it its own bump (default: every token package)",
    )
    ca.add_argument("-b", "--bump", choices=("patch", "minor", "major"), default="patch", help="bump (default: patch)")
    ca.add_argument("-m", "--message", required=True, help="the summary, written to the changelog")
    ca.add_argument("--root", default=".", metavar="DIR", help="workspace root with package.json (default: .)")

    ver = sub.add_parser(
        "version", help=COMMANDS["version"], description=COMMANDS["version"], formatter_class=_Formatter
    )
    ver.add_argument("--root", default=".", metavar="DIR", help="workspace root with package.json (default: .)")
    ver.add_argument(
        "--value-change",
        choices=("patch", "minor"),
        default="patch",
        help="semver bump for a changed value (default: patch)",
    )
    ver.add_argument("--dry-run", action="store_true", help="show the releases without writing anything")
    ver.add_argument("--json", action="store_true", help="print the releases as JSON")
    return root


def _record(args: argparse.Namespace, what: Any) -> None:
    from charter.tokens.metrics import find_project, record_in_project

    project_dir = find_project(Path(args.project) if args.project else None)
    if project_dir is None:
        raise CharterError(detail="--record needs --project DIR, $CHARTER_PROJECT or a charter.toml in ./")
    event = record_in_project(project_dir, what)
    print(f"recorded {event.type} event {event.id} in {project_dir}", file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    from charter.tokens.build import BuildOptions, build

    result = build(
        BuildOptions(
            sources=_sources(args),
            out=Path(args.out),
            formats=_split(args.format) or list(FORMATS),
            themes=args.theme or None,
            css_references=args.references,
            prefix=args.prefix,
            selector=args.selector,
            color_mode=args.color_format,
            name=args.name,
            description=args.description,
            contrast_file=Path(args.contrast) if args.contrast else None,
            aaa=args.aaa,
            release_file=Path(args.release_file) if args.release_file else None,
            release=args.release,
            value_change=args.value_change,
            initial_version=args.initial_version,
            name_case=args.name_case,
            on_collision=args.on_collision,
            compat=args.compat,
        )
    )
    _print_warnings(result.warnings)
    if args.json:
        print(_dumps(result.to_dict(), indent=2))
    else:
        bump = f" ({result.bump} bump from {result.previous})" if result.previous else ""
        print(
            f"built {result.tokens} tokens in {len(result.themes)} theme(s) [{', '.join(result.themes)}] "
            f"-> {result.out} ({len(result.files)} files), {result.name} {result.version}{bump}"
        )
        if result.contrast:
            print(f"contrast: {len(result.contrast)} checks passed")
        if result.released:
            print(f"released {result.version}: wrote {result.release_file}")
    if args.record:
        _record(args, result)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from charter.tokens.build import BuildOptions, build

    result = build(
        BuildOptions(
            sources=_sources(args),
            formats=_split(args.format) or list(FORMATS),
            themes=args.theme or None,
            prefix=args.prefix,
            contrast_file=Path(args.contrast) if args.contrast else None,
            aaa=args.aaa,
            name_case=args.name_case,
            on_collision=args.on_collision,
            compat=args.compat,
        )
    )
    _print_warnings(result.warnings)
    if args.json:
        print(_dumps(result.to_dict(), indent=2))
    else:
        themes, checks = len(result.themes), len(result.contrast)
        print(f"ok: {result.tokens} tokens in {themes} theme(s), {checks} contrast checks passed")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from charter.tokens import versioning
    from charter.tokens.themes import load_themes

    src, themes = load_themes(_sources(args), args.theme or None)
    against = Path(args.against) if args.against else None
    if against is not None and not against.is_file():
        raise CharterError(detail=f"{against}: no such release snapshot")
    release_path = against or (src.base_dir / "release.json")
    d, _, _ = versioning.plan(themes, release_path, value_change=args.value_change)
    if args.json:
        print(_dumps(d.to_dict(), indent=2))
        return 0
    if d.previous is None:
        print(f"no release snapshot at {release_path}: the first release will be {d.version}")
        return 0
    print(f"{d.previous} -> {d.version} ({d.bump})")
    for c in d.changes:
        detail = f"  {c.detail}" if c.detail else ""
        print(f"  {c.bump:5}  {c.kind:13} {c.path}{detail}  [{', '.join(c.themes)}]")
    if not d.changes:
        print("  no changes")
    return 0


def _divergence(args: argparse.Namespace) -> int:
    from charter.tokens.divergence import ScanOptions, scan

    report = scan(
        ScanOptions(
            paths=args.paths,
            tokens=Path(args.tokens) if args.tokens else None,
            base_prefixes=_split(args.base_prefix) or ["base"],
            packages=_split(args.package),
            prefix=args.prefix,
            threshold=args.threshold,
            exclude=_split(args.exclude),
            default_excludes=not args.no_default_excludes,
        )
    )
    data = report.to_dict()
    if args.output:
        from charter.tokens.build import write_file_atomic

        write_file_atomic(Path(args.output), _dumps(data, indent=2) + "\n")
    if args.json:
        print(_dumps(data, indent=2))
    else:
        for app in report.apps:
            flag = "FAIL" if app.failed else "ok"
            print(
                f"{flag:4} {app.name}: {app.percent:.1f}% divergent ({app.divergent} of {app.counted} declarations "
                f"in {len(app.files)} files; {app.tokens} use tokens)"
            )
            for f in app.offenders[: args.show]:
                print(f"       {f.file}:{f.line}:{f.column}: {f.property}: {f.value}  [{f.kind} {f.category}]")
            if len(app.offenders) > args.show:
                print(f"       … {len(app.offenders) - args.show} more (--show N, or --json)")
        print(f"total: {report.total_percent:.1f}% (threshold {report.threshold:g}% per app)")
    if args.record:
        _record(args, report)
    return 1 if report.failed else 0


def _changeset(args: argparse.Namespace) -> int:
    from charter.tokens import changesets

    root = Path(args.root)
    bumps: dict[str, str] = {}
    for item in _split(args.package):
        name, _, bump = item.partition("=")
        bumps[name.strip()] = bump.strip() or args.bump
    if not bumps:
        bumps = {p.name: args.bump for p in changesets.packages(root) if p.sources}
    path = changesets.add(root, bumps, args.message)
    print(f"wrote {path} ({', '.join(f'{n}: {b}' for n, b in bumps.items())})")
    return 0


def _version(args: argparse.Namespace) -> int:
    from charter.tokens import changesets

    root = Path(args.root)
    if args.dry_run:
        releases, _ = changesets.plan(root, args.value_change)
    else:
        releases = changesets.apply(root, args.value_change)
    if args.json:
        print(_dumps([r.to_dict() for r in releases], indent=2))
        return 0
    for r in releases:
        tokens = f", tokens need {r.diff.bump}" if r.diff is not None and r.diff.previous else ""
        print(f"{r.package.name}: {r.package.version} -> {r.version} ({r.bump}{tokens})")
    if not releases:
        print("nothing to release")
    elif args.dry_run:
        print("dry run: nothing written")
    return 0


_RUN = {
    "build": _build,
    "validate": _validate,
    "diff": _diff,
    "divergence": _divergence,
    "changeset": _changeset,
    "version": _version,
}


def _print_warnings(warnings: list[Any]) -> None:
    for w in warnings:
        print(
            f"warning: {w.file}#{w.pointer}: {w.message}" if w.file else f"warning: {w.pointer}: {w.message}",
            file=sys.stderr,
        )


def _print_error(exc: CharterError) -> None:
    print(f"error: {exc}", file=sys.stderr)
    for e in exc.errors:
        where = f"{e.file}#{e.pointer}" if e.file else (e.pointer or "/")
        print(f"  {where}: {e.message}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Run ``charter tokens COMMAND …`` (``argv`` starts with the command); return the exit code."""
    import gc

    # A short-lived process that builds tens of thousands of long-lived objects: generational GC
    # would only rescan them (a third of a 30,000-token build). The process exits right after.
    gc.disable()
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return _RUN[args.command](args)
    except CharterError as exc:
        _print_error(exc)
        return 1
    except BrokenPipeError:  # `charter tokens … | head`
        return 0
    except RecursionError:  # a safety net: every walk has a depth limit (charter.tokens.model.MAX_DEPTH)
        print("error: the input is nested too deeply to process", file=sys.stderr)
        return 1


def _typer_app() -> Any:
    """Typer commands that forward to :func:`main` (for the ``charter tokens`` group and its help)."""
    import typer

    tapp = typer.Typer(no_args_is_help=True, help="Design tokens: build, validate, diff, divergence.")

    def forward(name: str) -> Any:
        def command(ctx: typer.Context) -> None:
            code = main([name, *ctx.args])
            if code:
                raise typer.Exit(code)

        command.__annotations__ = {"ctx": typer.Context, "return": None}
        command.__doc__ = COMMANDS[name]
        return command

    for name, help_text in COMMANDS.items():
        tapp.command(
            name,
            help=help_text,
            add_help_option=False,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(forward(name))
    return tapp


_app: Any = None


def __getattr__(name: str) -> Any:
    # ``app`` is built on first access so the fast path never imports Typer.
    global _app
    if name == "app":
        if _app is None:
            _app = _typer_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
