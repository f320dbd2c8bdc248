"""`charter types generate`: TypeScript from content types, compiled by the real `tsc --strict`.

The usage files below are part of the check: `@ts-expect-error` lines fail the compile when the
generated types are too loose, the other lines fail it when they are too strict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from charter.frontend.typescript import generate
from charter.schemas.registry import Registry
from tests.node import typecheck

DEMO_USAGE = """\
import type { ContentTypes, PageV1Envelope, PricingPlanV1, PricingPlanV1Stored, EntryList, Problem } from "./index.js";
import { PageV1Schema } from "./index.js";

export function render(page: PageV1Envelope): string[] {
  const out: string[] = [page.data.title, page.locale.resolved];
  for (const s of page.data.sections) {
    switch (s.intent) {
      case "hero": out.push(s.cta.href, s.subtitle ?? ""); break;   // narrowed by intent
      case "pricing-table": out.push(...s.plans); break;              // entry ids
      case "faq": out.push(...s.items.map((i) => i.question)); break;
      default: break;
    }
  }
  for (const inc of page.included ?? []) out.push(inc.data.currency, String(inc.data.price));
  return out;
}

const plan: PricingPlanV1 = { id: "pro", name: "Pro", price: 29, currency: "EUR", features: [] };
// @ts-expect-error: not one of the enum's currencies
const wrongCurrency: PricingPlanV1 = { ...plan, currency: "JPY" };
// @ts-expect-error: price is required
const noPrice: PricingPlanV1 = { id: "x", name: "X", currency: "USD", features: [] };
const stored: PricingPlanV1Stored = { en: plan, "de-DE": { name: "Pro", features: [] } };
// @ts-expect-error: de-DE is a required locale of pricing-plan
const missingLocale: PricingPlanV1Stored = { en: plan };
// @ts-expect-error: de-AT may only hold localised fields
const notLocalised: PricingPlanV1Stored = { ...stored, "de-AT": { price: 3 } };
export function first(list: EntryList<ContentTypes["pricing-plan"]>): number | undefined {
  return list.items[0]?.data.price;
}
export function why(p: Problem): string { return (p.errors ?? []).map((e) => e.pointer).join(",") + p.title; }
export const slugField: "slug" = PageV1Schema.slug;
export { wrongCurrency, noPrice, missingLocale, notLocalised };
"""

HOSTILE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "odd-thing.v2",
    "version": "2.1.0",
    "title": "Odd */ thing",
    "description": "Names and keywords TypeScript cannot express as they are.",
    "type": "object",
    "x-charter": {"localized": ["it's"], "locales": {"default": "en", "fallbacks": {"fr-FR": ["en"]}}},
    "required": ["it's", "constructor", "kind"],
    "properties": {
        "it's": {"type": "string", "description": "a quote ' and a */ comment end"},
        "a-b": {"type": ["string", "null"]},
        "constructor": {"type": "integer", "minimum": 1},
        "__proto__": {"type": "boolean"},
        "kind": {"enum": ['a"b', "ü", 3, None, True]},
        "nullable": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}], "items": False},
        "tagged": {"type": "array", "prefixItems": [{"const": "t"}], "items": {"type": "integer"}},
        "not-empty": {"type": "string", "not": {"const": ""}},
        "either": {"oneOf": [{"$ref": "#/$defs/foo-bar"}, {"$ref": "#/$defs/foo_bar"}]},
        "free": {"type": "object"},
        "map": {"type": "object", "additionalProperties": {"type": "number"}},
        "closed": {"type": "object", "additionalProperties": False},
        "both": {
            "allOf": [{"$ref": "#/$defs/foo-bar"}, {"type": "object", "properties": {"extra": {"type": "string"}}}]
        },
    },
    "$defs": {
        "foo-bar": {"type": "object", "properties": {"x": {"type": "string"}, "next": {"$ref": "#/$defs/foo-bar"}}},
        "foo_bar": {"type": "object", "required": ["y"], "properties": {"y": {"const": 1}}},
    },
}

HOSTILE_USAGE = """\
import type { OddThingV2, OddThingV2FooBar, OddThingV2FooBar2 } from "./odd-thing.v2.js";
const ok: OddThingV2 = { "it's": "x", constructor: 2, kind: null, point: [1, 2], tagged: ["t", 1, 2],
  either: { y: 1 }, free: { any: [1] }, map: { a: 1 }, closed: {}, "a-b": null, nullable: null,
  both: { x: "a", extra: "b" } };
// @ts-expect-error: a tuple of exactly two numbers
const badPoint: OddThingV2 = { ...ok, point: [1, 2, 3] };
// @ts-expect-error: not one of the enum values
const badKind: OddThingV2 = { ...ok, kind: "c" };
// @ts-expect-error: map values are numbers
const badMap: OddThingV2 = { ...ok, map: { a: "1" } };
const chain: OddThingV2FooBar = { x: "a", next: { next: { x: "b" } } };
const other: OddThingV2FooBar2 = { y: 1 };
export { ok, badPoint, badKind, badMap, chain, other };
"""


def _write(files: dict[str, str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return sorted(folder.glob("*.ts"))


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "charter", "types", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_demo_types_compile_strict_and_mean_what_the_schemas_say(project_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "types"
    run = _cli("generate", "--project", str(project_dir), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.glob("*.ts")) == [
        "doc.v1.ts", "envelope.ts", "index.ts", "legal-text.v1.ts", "marketing-claim.v1.ts", "page.v1.ts",
        "pricing-plan.v1.ts",
    ]  # fmt: skip
    (out / "usage.ts").write_text(DEMO_USAGE)
    result = typecheck(sorted(out.glob("*.ts")), out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hostile_names_and_keywords_compile_and_are_widened_with_a_note(tmp_path: Path) -> None:
    types = tmp_path / "content-types"
    types.mkdir()
    (types / "odd-thing.schema.json").write_text(json.dumps(HOSTILE))
    files = generate(Registry.load(types))
    text = files["odd-thing.v2.ts"]
    assert '"it\'s": string;' in text and '"a-b"?: string | null;' in text
    assert "widened: TypeScript cannot express not" in text
    assert "*/ comment" not in text and "*\\/ comment" in text  # a description cannot close the JSDoc
    assert "@minimum 1" in text
    out = tmp_path / "types"
    paths = _write({**files, "usage.ts": HOSTILE_USAGE}, out)
    result = typecheck(paths, out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_reports_drift_and_generate_removes_stale_modules(project_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "types"
    assert _cli("generate", "--project", str(project_dir), "--out", str(out)).returncode == 0
    assert _cli("generate", "--check", "--project", str(project_dir), "--out", str(out)).returncode == 0
    schema_file = project_dir / "content-types" / "doc.schema.json"
    schema = json.loads(schema_file.read_text())
    schema["properties"]["teaser"] = {"type": "string", "description": "One line for lists."}
    schema["version"] = "1.1.0"
    schema_file.write_text(json.dumps(schema))
    drift = _cli("generate", "--check", "--project", str(project_dir), "--out", str(out))
    assert drift.returncode == 1
    assert "+  teaser?: string;" in drift.stdout and "1 module(s) out of date" in drift.stdout
    (out / "gone.v1.ts").write_text("// Generated by `charter types generate` from gone.schema.json\n")
    (out / "mine.ts").write_text("export const x = 1;\n")
    assert _cli("generate", "--project", str(project_dir), "--out", str(out)).returncode == 0
    assert not (out / "gone.v1.ts").exists() and (out / "mine.ts").exists()  # only generated modules go


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lang", "rust"), "only 'ts'"),
        (("--out", "/proc/charter-types"), "cannot write to /proc/charter-types"),
    ],
)
def test_bad_arguments_are_one_clear_line_and_exit_1(args: tuple[str, ...], message: str, project_dir: Path) -> None:
    run = _cli("generate", "--project", str(project_dir), *args)
    assert run.returncode == 1
    assert message in run.stderr and "Traceback" not in run.stderr
