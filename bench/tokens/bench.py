"""Charter's token build against Style Dictionary 5, as whole processes, on the same DTCG files.

Runs, interleaved so both see the same machine noise, ``charter tokens build FILE --format css``
and ``node sd-build.mjs FILE`` (Style Dictionary 5, ``css`` transform group, ``css/variables``)
on:

* ``flat-5000``: 5,000 DTCG tokens with aliases (base, semantic and component layers);
* ``chain-300x100``: Style Dictionary's own perf shape, 300 tokens behind 100 chained layers.

It checks that both write identical CSS declarations (same names, values and order), takes the
median of several runs, checks the targets (Charter <= 0.1 x Style Dictionary on flat-5000,
Charter <= 1 s on chain-300x100) and rewrites the ``<!-- bench:tokens -->`` section of
BENCHMARKS.md. Usage: ``bench/tokens/run [--runs N] [--no-write]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "work"
DECL = re.compile(r"^\s*(--[\w-]+):\s*(.*?);", re.MULTILINE)
DATASETS = ("flat-5000", "chain-300x100")
FLAT_RATIO_TARGET = 0.1
CHAIN_SECONDS_TARGET = 1.0


def charter_exe() -> str:
    exe = Path(sys.executable).with_name("charter")
    if not exe.exists():
        sys.exit(f"{exe} not found: run `make install` first")
    return str(exe)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return elapsed


def declarations(css: Path) -> list[tuple[str, str]]:
    return DECL.findall(css.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per tool and dataset (default: 7)")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = parser.parse_args()

    if not (HERE / "node_modules" / "style-dictionary").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    # Installed packages ship compiled bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # would otherwise recompile Charter on every start and measure the compiler.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "charter")], check=True, stdout=subprocess.DEVNULL
    )
    WORK.mkdir(exist_ok=True)
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(WORK)], check=True, stdout=subprocess.DEVNULL)

    charter = charter_exe()
    sd_version = subprocess.run(
        ["node", "-p", "JSON.parse(require('fs').readFileSync('node_modules/style-dictionary/package.json')).version"],
        cwd=HERE,
        capture_output=True,
        text=True,
    ).stdout.strip()
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    results: dict[str, dict[str, list[float]]] = {}
    for name in DATASETS:
        src = WORK / name / "tokens.json"
        ch_out, sd_out, full_out = WORK / f"{name}-charter", WORK / f"{name}-sd", WORK / f"{name}-charter-all"
        for d in (sd_out,):
            shutil.rmtree(d, ignore_errors=True)
        commands = {
            "charter": [charter, "tokens", "build", str(src), "--out", str(ch_out), "--format", "css"],
            "sd": ["node", str(HERE / "sd-build.mjs"), str(src), str(sd_out) + "/"],
            "charter-all": [charter, "tokens", "build", str(src), "--out", str(full_out)],
        }
        for cmd in commands.values():  # warm-up: page cache, node's compile cache
            timed(cmd)
        ours, theirs = declarations(ch_out / "css" / "default.css"), declarations(sd_out / "tokens.css")
        if ours != theirs:
            diff = next((i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b)
            sys.exit(f"{name}: CSS declarations differ ({len(ours)} vs {len(theirs)}); first difference {diff}")
        times: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.runs):
            for key, cmd in commands.items():
                times[key].append(timed(cmd))
        results[name] = times
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"{name}: {len(ours)} identical declarations; median charter {med['charter']:.3f}s, "
            f"style-dictionary {med['sd']:.3f}s (ratio {med['charter'] / med['sd']:.3f}), "
            f"charter all formats {med['charter-all']:.3f}s"
        )

    flat = {k: statistics.median(v) for k, v in results["flat-5000"].items()}
    chain = {k: statistics.median(v) for k, v in results["chain-300x100"].items()}
    ratio = flat["charter"] / flat["sd"]
    ok_ratio = ratio <= FLAT_RATIO_TARGET
    ok_chain = chain["charter"] <= CHAIN_SECONDS_TARGET
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)

    def row(label: str, data: dict[str, float], runs: dict[str, list[float]]) -> str:
        return (
            f"| {label} | {data['charter']:.3f} s | {data['sd']:.3f} s | {data['charter'] / data['sd']:.3f}x | "
            f"{data['charter-all']:.3f} s | {min(runs['charter']):.3f} / {max(runs['charter']):.3f} s |"
        )

    section = "\n".join(
        [
            "## Design tokens (`bench/tokens/`)",
            "",
            f"Whole-process wall time, median of {args.runs} interleaved runs (after one warm-up), measured "
            f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} cores "
            f"(load average {load[0]:.1f} at the end), Python {platform.python_version()}, Node {node_version}, "
            f"Style Dictionary {sd_version}. Both tools read the same DTCG file and write CSS custom properties; "
            "the script checks the declarations are identical (names, values, order) before timing.",
            "",
            "| Dataset | Charter (`charter tokens build --format css`) | Style Dictionary 5 (`css/variables`) "
            "| Charter / SD | Charter, all formats + npm package | Charter min / max |",
            "|---|---|---|---|---|---|",
            row("5,000 tokens with aliases (`flat-5000`)", flat, results["flat-5000"]),
            row("300 tokens x 100 chained layers (`chain-300x100`, 30,000 tokens)", chain, results["chain-300x100"]),
            "",
            f"- Target: Charter <= {FLAT_RATIO_TARGET}x Style Dictionary on 5,000 tokens: "
            f"**{'met' if ok_ratio else 'NOT met'}** ({ratio:.3f}x).",
            f"- Target: Style Dictionary's perf shape (300 x 100) in <= {CHAIN_SECONDS_TARGET:g} s: "
            f"**{'met' if ok_chain else 'NOT met'}** ({chain['charter']:.3f} s; Style Dictionary {chain['sd']:.3f} s).",
            "",
            f"Produced by `bench/tokens/run --runs {args.runs}` (datasets: `bench/tokens/generate.py`; peer: "
            "`bench/tokens/sd-build.mjs`).",
        ]
    )
    print(section)
    if not args.no_write:
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text(encoding="utf-8")
        start, end = "<!-- bench:tokens -->", "<!-- /bench:tokens -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            text = f"{head}{start}\n{section}\n{end}{tail}"
        else:
            text = text.rstrip("\n") + f"\n\n{start}\n{section}\n{end}\n"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0 if ok_ratio and ok_chain else 1


if __name__ == "__main__":
    sys.exit(main())
