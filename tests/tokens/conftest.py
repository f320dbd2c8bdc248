"""Helpers for the design-token tests: write token files, run the CLI in-process or for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.themes import Theme, load_themes


def srgb(r: float, g: float, b: float, **extra: Any) -> dict[str, Any]:
    return {"colorSpace": "srgb", "components": [r, g, b], **extra}


def px(v: float) -> dict[str, Any]:
    return {"value": v, "unit": "px"}


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def themes_of(tmp: Path, doc: Any, name: str = "tokens.json", **kw: Any) -> list[Theme]:
    return load_themes([write(tmp / name, doc)], **kw)[1]


def errors_of(tmp: Path, doc: Any, name: str = "tokens.json") -> list[str]:
    """Every error message (``file#pointer: message``) loading ``doc`` produces."""
    with pytest.raises(ValidationFailed) as info:
        load_themes([write(tmp / name, doc)])
    return [f"{Path(e.file).name if e.file else ''}#{e.pointer}: {e.message}" for e in info.value.errors]


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """``charter tokens ARGV…`` in-process (the argparse door the real entry point uses)."""
    from charter.cli.commands.design_tokens import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def charter(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """The real ``charter`` console script in a subprocess."""
    exe = Path(sys.executable).with_name("charter")
    proc = subprocess.run(
        [str(exe), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
