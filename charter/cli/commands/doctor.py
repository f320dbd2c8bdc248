"""``charter doctor``: find (and with ``--quarantine`` repair) stored records a read cannot serve."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from charter.cli.context import ProjectOption

console = Console()


def doctor(
    project: ProjectOption = None,
    quarantine: Annotated[
        bool, typer.Option("--quarantine", help="Repair each record found (the originals go to the audit log).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check every stored JSON value can be served back (no lone surrogate, NaN, Infinity, unsafe
    integer or NUL). Exit 1 when records need repair; 0 when none do (or all were repaired)."""
    import json

    from charter.auth.roles import SYSTEM
    from charter.config import load_settings
    from charter.doctor import find
    from charter.doctor import quarantine as repair
    from charter.runtime import Runtime

    rt = Runtime.open(load_settings(project))
    try:
        findings = find(rt)
        repaired = repair(rt, SYSTEM, findings) if quarantine and findings else 0
    finally:
        rt.close()
    if as_json:
        print(json.dumps({"findings": [f.to_dict() for f in findings], "quarantined": repaired}, indent=2))
    else:
        for f in findings:
            key = ", ".join(f"{k}={v}" for k, v in f.key.items())
            console.print(
                f"{f.table}.{f.column} [{key}] {f.pointer or '/'}: {f.message}", highlight=False, markup=False
            )
        if not findings:
            console.print("every stored value can be served", highlight=False)
        elif quarantine:
            console.print(f"quarantined {repaired} record(s); originals are in the audit log (doctor.quarantine)")
        else:
            console.print(f"{len(findings)} record(s) cannot be served; repair them with `charter doctor --quarantine`")
    if findings and not quarantine:
        raise typer.Exit(1)
