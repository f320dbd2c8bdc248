"""The token build action: sources -> themes -> contrast checks -> version -> files, atomically.

``build(options)`` is the one use case behind ``charter tokens build`` (and anything else that
builds tokens). It either writes the whole output folder or nothing: files are rendered in
memory, written to a temporary folder beside ``--out`` and renamed into place; any error (bad
input, a contrast failure, a name clash) leaves the previous output untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from charter.exceptions import ErrorDetail, ValidationFailed
from charter.tokens.model import Problems

DEFAULT_FORMATS = ("css", "scss", "js", "ts", "json", "npm")
#: Written into every output folder so a later build knows it may replace the folder.
MARKER = ".charter-tokens"


# Plain classes rather than dataclasses: ``dataclasses`` imports ``inspect`` and costs a few
# milliseconds per class, a measurable share of a whole ``charter tokens build`` (bench/tokens).
class BuildOptions:
    """What to build. ``out=None`` only validates. Every option of ``charter tokens build``:

    ``formats`` (default: all), ``themes`` (names or ``mod=ctx`` inputs; default: every
    permutation), ``css_references`` (aliases as ``var()``), ``prefix``, ``selector``,
    ``color_mode`` (``auto`` | ``hex``), ``name`` / ``description`` (npm package),
    ``contrast_file`` / ``aaa``, ``release_file`` / ``release`` / ``value_change`` /
    ``initial_version`` (versioning), ``plugins`` (a plugin manager adding token formats),
    ``name_case`` / ``on_collision`` (:mod:`charter.tokens.naming`), ``compat`` (lenient reading,
    :mod:`charter.tokens.compat`). Without ``out`` every format is still rendered in memory, so
    validation reports every error (a name collision included) that the build would."""

    def __init__(
        self,
        sources: list[Path],
        out: Path | None = None,
        formats: list[str] | None = None,
        themes: list[str] | None = None,
        css_references: bool = False,
        prefix: str = "",
        selector: str = ":root",
        color_mode: str = "auto",
        name: str | None = None,
        description: str = "Design tokens",
        contrast_file: Path | None = None,
        aaa: bool = False,
        release_file: Path | None = None,
        release: bool = False,
        value_change: str = "patch",
        initial_version: str = "1.0.0",
        plugins: Any = None,
        name_case: str = "kebab",
        on_collision: str = "error",
        compat: bool = False,
    ) -> None:
        self.sources = sources
        self.out = out
        self.formats: list[str] = list(DEFAULT_FORMATS) if formats is None else formats
        self.themes = themes
        self.css_references = css_references
        self.prefix = prefix
        self.selector = selector
        self.color_mode = color_mode
        self.name = name
        self.description = description
        self.contrast_file = contrast_file
        self.aaa = aaa
        self.release_file = release_file
        self.release = release
        self.value_change = value_change
        self.initial_version = initial_version
        self.plugins = plugins
        self.name_case = name_case
        self.on_collision = on_collision
        self.compat = compat


class BuildResult:
    """What a build made (or, without ``out``, would make)."""

    def __init__(
        self,
        name: str,
        out: Path | None,
        themes: list[str],
        tokens: int,
        version: str,
        previous: str | None,
        bump: str,
        files: list[str],
        contrast: list[Any],
        changes: list[Any],
        release_file: Path | None = None,
        released: bool = False,
        warnings: list[Any] | None = None,
    ) -> None:
        self.name = name
        self.out = out
        self.themes = themes
        self.tokens = tokens
        self.version = version
        self.previous = previous
        self.bump = bump
        self.files = files
        self.contrast = contrast
        self.changes = changes
        self.release_file = release_file
        self.released = released
        #: deviations ``compat`` mapped (:class:`~charter.exceptions.ErrorDetail`, keyword ``compat``)
        self.warnings: list[Any] = [] if warnings is None else warnings

    def __repr__(self) -> str:
        return f"BuildResult({self.name!r} {self.version}, themes={self.themes!r}, {self.tokens} tokens)"

    @property
    def contrast_failures(self) -> int:
        return sum(1 for r in self.contrast if not r.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "out": str(self.out) if self.out else None,
            "themes": self.themes,
            "tokens": self.tokens,
            "version": self.version,
            "previous": self.previous,
            "bump": self.bump,
            "files": self.files,
            "contrast": [r.to_dict() for r in self.contrast],
            "contrast_failures": self.contrast_failures,
            "changes": [c.to_dict() for c in self.changes],
            "release_file": str(self.release_file) if self.release_file else None,
            "released": self.released,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _fail(file: str | None, message: str, what: str) -> None:
    p = Problems()
    p.add(file, "", message, "build")
    p.raise_if_any(what)


class Loaded:
    """Sources read, themes resolved and contrast measured: everything before any output."""

    def __init__(self, sources: Any, themes: list[Any], contrast: list[Any], contrast_file: str | None) -> None:
        self.sources = sources  # charter.tokens.themes.Sources
        self.themes = themes  # charter.tokens.themes.Theme
        self.contrast = contrast  # charter.tokens.a11y.ContrastResult
        self.contrast_file = contrast_file

    @property
    def failures(self) -> list[Any]:
        return [r for r in self.contrast if not r.passed]


def load(
    sources: list[Path],
    themes: list[str] | None = None,
    contrast_file: Path | None = None,
    aaa: bool = False,
    compat: bool = False,
) -> Loaded:
    """Read and resolve every theme and check every declared contrast pair in each.

    Raises ``ValidationFailed`` for bad input (naming file and token path); contrast *failures*
    are returned, not raised (``Loaded.failures``)."""
    from charter.tokens import a11y
    from charter.tokens.themes import load_themes

    src, loaded = load_themes(sources, themes, compat)
    if contrast_file is not None:
        from charter.tokens.parser import load_json

        raw = load_json(contrast_file)
        pairs_raw = raw.get("pairs") if type(raw) is dict else raw
        pairs_file: str | None = str(contrast_file)
    else:
        pairs_raw, pairs_file = src.contrast, src.contrast_file
    pairs = a11y.parse_pairs(pairs_raw, pairs_file, aaa)
    return Loaded(src, loaded, a11y.check(loaded, pairs, pairs_file), pairs_file)


def contrast_error(loaded: Loaded) -> ValidationFailed:
    failures = loaded.failures
    return ValidationFailed(
        detail=f"{len(failures)} contrast failure{'s' if len(failures) != 1 else ''} (WCAG 2.2)",
        errors=[
            ErrorDetail(pointer="/pairs", message=r.describe(), keyword="contrast", file=loaded.contrast_file)
            for r in failures
        ],
        extra={"contrast": [r.to_dict() for r in loaded.contrast]},
    )


def build(opts: BuildOptions) -> BuildResult:
    """Build (or, without ``out``, only validate) a token package. Raises ``ValidationFailed``
    naming the file and token path for bad input, and naming pair, theme and ratio for contrast
    failures; nothing is written then."""
    from charter.tokens import versioning
    from charter.tokens.formats import BuildContext, FormatOptions, get_formats
    from charter.tokens.naming import check_options

    if opts.color_mode not in ("auto", "hex"):
        _fail(None, f"color mode must be 'auto' or 'hex', not {opts.color_mode!r}", "options")
    check_options(opts.name_case, opts.on_collision)
    formats = get_formats(list(dict.fromkeys(opts.formats)), opts.plugins)
    loaded = load(opts.sources, opts.themes, opts.contrast_file, opts.aaa, opts.compat)
    if loaded.failures:
        raise contrast_error(loaded)
    src, themes, results = loaded.sources, loaded.themes, loaded.contrast

    release_file = opts.release_file or (src.base_dir / "release.json")
    name = opts.name
    if name is None:
        old = versioning.load_release(release_file)
        name = (old or {}).get("name") or "design-tokens"
    diff, release_doc, changelog = versioning.plan(
        themes,
        release_file,
        value_change=opts.value_change,
        initial=opts.initial_version,
        name=name,
        need_snapshot=opts.release,
    )
    default_theme = themes[0].name
    if src.resolver is not None and src.resolver.modifiers:
        defaults = {m.name: m.default for m in src.resolver.modifiers.values()}
        default_theme = next(
            (t.name for t in themes if all(d is None or t.inputs.get(k) == d for k, d in defaults.items())),
            default_theme,
        )
    files: dict[str, str] = {}
    ctx = BuildContext(
        themes=themes,
        default_theme=default_theme,
        options=FormatOptions(
            opts.css_references, opts.prefix, opts.selector, opts.color_mode, opts.name_case, opts.on_collision
        ),
        package_name=name,
        version=diff.version,
        description=opts.description,
        changelog=changelog,
        formats=list(formats),
    )
    for fmt in formats.values():
        files.update(fmt.render(ctx))
    if opts.out is not None:
        files[MARKER] = f"{name} {diff.version}\n"
        write_tree(opts.out, files)
    released = False
    if opts.release:
        import json

        write_file_atomic(release_file, json.dumps(release_doc, indent=2, ensure_ascii=False) + "\n")
        released = True
    return BuildResult(
        name=name,
        out=opts.out,
        themes=[t.name for t in themes],
        tokens=sum(len(t.tokens) for t in themes),
        version=diff.version,
        previous=diff.previous,
        bump=diff.bump,
        files=sorted(f for f in files if f != MARKER),
        contrast=results,
        changes=diff.changes,
        release_file=release_file,
        released=released,
        warnings=src.warnings,
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _rmtree(path: Path) -> None:
    """Remove a folder this module wrote (plain files and folders), ignoring what is already gone.
    (Not ``shutil``: its import, with the compression modules, is a noticeable share of a build.)"""
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except FileNotFoundError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))
            except FileNotFoundError:
                pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def _sibling(path: Path, tag: str) -> Path:
    """A new, unused hidden name beside ``path`` (``.dist.tmp-<pid>-<random>``)."""
    return path.parent / f".{path.name}.{tag}-{os.getpid()}-{os.urandom(4).hex()}"


def write_tree(out: Path, files: dict[str, str]) -> None:
    """Replace folder ``out`` with exactly ``files``, or leave it untouched on any error.

    Refuses to replace an existing non-empty folder that a previous build did not write."""
    out = out.resolve()
    if out.exists():
        if not out.is_dir():
            _fail(str(out), "--out exists and is not a folder", "output")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            _fail(
                str(out),
                f"refusing to replace a non-empty folder that charter tokens build did not write (no {MARKER})",
                "output",
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(out, "tmp")
    tmp.mkdir(mode=0o777 & ~_umask())
    try:
        made: set[Path] = {tmp}
        for rel, text in files.items():
            path = tmp / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        if out.exists():
            old = _sibling(out, "old")
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)
                raise
            _rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        _rmtree(tmp)
        raise


def write_file_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
