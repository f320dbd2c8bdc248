"""Charter's token build against Style Dictionary 5, as whole processes, on the same DTCG files.

Runs, interleaved so both see the same machine noise, ``charter tokens build FILE --format css``
and ``node sd-build.mjs FILE`` (Style Dictionary 5, ``css`` transform group, ``css/variables``)
on:

* ``flat-5000``: 5,000 DTCG tokens with aliases (base, semantic and component layers);
* ``chain-300x100``: Style Dictionary's own perf shape, 300 tokens behind 100 chained layers;
* ``primer``: a published design system, GitHub Primer as the ``dtcg-examples`` npm package ships
  it (pinned in ``package.json``): the 52 token files of its light theme at default size, about
  1,470 tokens, read by both tools from the same file list. Charter reads it with ``--compat``
  (it bends 2025.10) and ``--on-collision suffix`` (nine pairs of its names collide in CSS);
  both write hex colours.

For the generated datasets it checks that both write identical CSS declarations (same names,
values and order); for ``primer`` that every name Style Dictionary writes is in Charter's output
(but the three tokens of a non-2025.10 ``$type`` Charter leaves out) and that every value differing
is one of Style Dictionary's known defects on this input (``[object Object]`` for duration objects,
a font list quoted as one name). It takes the median of several runs, checks the targets (Charter
<= 0.1 x Style Dictionary on flat-5000 and on primer, Charter <= 1 s on chain-300x100) and
rewrites the ``<!-- bench:tokens -->`` section of
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
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "work"
DECL = re.compile(r"^\s*(--[\w-]+):\s*(.*?);", re.MULTILINE)
DATASETS = ("flat-5000", "chain-300x100", "primer")
PRIMER = HERE / "node_modules" / "dtcg-examples" / "github-primer.resolver.json"
PRIMER_LEFT_OUT = {"--box-shadow-thin", "--box-shadow-thick", "--box-shadow-thicker"}


def primer_files(inputs: dict[str, str]) -> list[str]:
    """The token files of one resolver input (sets and the chosen contexts, in resolution order)."""
    import json

    doc = json.loads(PRIMER.read_text(encoding="utf-8"))
    files: list[str] = []

    def add(sources: list[dict[str, str]]) -> None:
        for src in sources:
            ref = src["$ref"]
            if ref.startswith("#/sets/"):
                add(doc["sets"][ref.rsplit("/", 1)[1]]["sources"])
            else:
                files.append(str((PRIMER.parent / ref).resolve()))

    for item in doc["resolutionOrder"]:
        kind, name = item["$ref"].split("/")[1:]
        if kind == "sets":
            add(doc["sets"][name]["sources"])
        else:
            mod = doc["modifiers"][name]
            add(mod["contexts"][inputs.get(name, mod.get("default"))])
    return files


def _unquoted(value: str) -> str:
    return value.replace("\\", "").replace("'", "").replace('"', "")


def compare_primer(ours: list[tuple[str, str]], theirs: list[tuple[str, str]]) -> int:
    """Identical declarations; exits when a difference is not one of Style Dictionary's known defects."""
    mine = dict(ours)
    missing = [n for n, _ in theirs if n not in mine and n not in PRIMER_LEFT_OUT]
    if missing:
        sys.exit(f"primer: Charter misses {missing[:5]}")
    same = 0
    for name, value in theirs:
        if name in PRIMER_LEFT_OUT:
            continue
        if mine[name] == value:
            same += 1
        elif "[object Object]" not in value and _unquoted(value) != _unquoted(mine[name]):
            sys.exit(f"primer: {name} differs: Charter {mine[name]!r}, Style Dictionary {value!r}")
    return same


FLAT_RATIO_TARGET = 0.1
CHAIN_SECONDS_TARGET = 1.0


def charter_exe() -> str:
    exe = Path(sys.executable).with_name("charter")
    if not exe.exists():
        sys.exit(f"{exe} not found: run `make install` first")
    return str(exe)


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system of all its threads, from the child's rusage) of one
    whole process."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if proc.returncode != 0:
            log.seek(0)
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{log.read().decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime


def declarations(css: Path) -> list[tuple[str, str]]:
    return DECL.findall(css.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per tool and dataset (default: 7)")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated subset of {', '.join(DATASETS)} (default: all; a subset writes its own section)",
    )
    args = parser.parse_args()
    chosen = [d for d in DATASETS if d in args.datasets.split(",")]
    if not chosen:
        parser.error(f"--datasets: choose from {', '.join(DATASETS)}")

    if not (HERE / "node_modules" / "style-dictionary").is_dir() or not PRIMER.is_file():
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
    load_start = os.getloadavg()
    wall: dict[str, dict[str, list[float]]] = {}
    cpu: dict[str, dict[str, list[float]]] = {}
    decls: dict[str, int] = {}
    commands_shown: dict[str, list[str]] = {}
    identical: dict[str, int] = {}
    for name in chosen:
        src = WORK / name / "tokens.json"
        ch_out, sd_out, full_out = WORK / f"{name}-charter", WORK / f"{name}-sd", WORK / f"{name}-charter-all"
        shutil.rmtree(sd_out, ignore_errors=True)
        sources, sd_source, extra = [str(src)], str(src), []
        if name == "primer":
            sources = primer_files({"theme": "light", "size": "default"})
            (WORK / "primer-files.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
            sd_source = "@" + str(WORK / "primer-files.txt")
            extra = ["--compat", "--on-collision", "suffix", "--color-format", "hex"]
        commands = {
            "charter": [charter, "tokens", "build", *sources, "--out", str(ch_out), "--format", "css", *extra],
            "sd": ["node", str(HERE / "sd-build.mjs"), sd_source, str(sd_out) + "/"],
            "charter-all": [charter, "tokens", "build", *sources, "--out", str(full_out), *extra],
        }
        commands_shown[name] = commands["charter"]
        for cmd in commands.values():  # warm-up: page cache, node's compile cache
            timed(cmd)
        ours, theirs = declarations(ch_out / "css" / "default.css"), declarations(sd_out / "tokens.css")
        if name == "primer":
            identical[name] = compare_primer(ours, theirs)
        elif not ours or ours != theirs:
            diff = next(
                ((i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), "one is a prefix"
            )
            sys.exit(f"{name}: CSS declarations differ ({len(ours)} vs {len(theirs)}); first difference {diff}")
        decls[name] = len(theirs) if name == "primer" else len(ours)
        wall[name] = {k: [] for k in commands}
        cpu[name] = {k: [] for k in commands}
        for _ in range(args.runs):
            for key, cmd in commands.items():
                w, c = timed(cmd)
                wall[name][key].append(w)
                cpu[name][key].append(c)
        # The outputs of the timed runs are the ones compared, too.
        after = declarations(ch_out / "css" / "default.css"), declarations(sd_out / "tokens.css")
        if name == "primer":
            compare_primer(*after)
        elif after[0] != after[1]:
            sys.exit(f"{name}: CSS declarations differ after the timed runs")
        med = {k: statistics.median(v) for k, v in wall[name].items()}
        print(
            f"{name}: {len(ours)} identical declarations; median charter {med['charter']:.3f}s, "
            f"style-dictionary {med['sd']:.3f}s (ratio {med['charter'] / med['sd']:.3f}), "
            f"charter all formats {med['charter-all']:.3f}s"
        )
    load_end = os.getloadavg()

    def m(data: dict[str, list[float]], key: str) -> float:
        return statistics.median(data[key])

    def ratio(name: str) -> float:
        return m(wall[name], "charter") / m(wall[name], "sd")

    ok = True
    labels = {
        "flat-5000": "5,000 tokens with aliases (`flat-5000`)",
        "chain-300x100": "300 tokens x 100 chained layers (`chain-300x100`, 30,000 tokens)",
        "primer": "GitHub Primer, light theme (`primer`, 52 files from `dtcg-examples` 1.1.3)",
    }
    targets: list[str] = []
    if "flat-5000" in wall:
        ok &= ratio("flat-5000") <= FLAT_RATIO_TARGET
        targets.append(
            f"- Target: Charter <= {FLAT_RATIO_TARGET}x Style Dictionary's wall time on 5,000 tokens: "
            f"**{'met' if ratio('flat-5000') <= FLAT_RATIO_TARGET else 'NOT met'}** ({ratio('flat-5000'):.3f}x)."
        )
    if "chain-300x100" in wall:
        chain_s = m(wall["chain-300x100"], "charter")
        ok &= chain_s <= CHAIN_SECONDS_TARGET
        targets.append(
            f"- Target: Style Dictionary's perf shape (300 x 100) in <= {CHAIN_SECONDS_TARGET:g} s: "
            f"**{'met' if chain_s <= CHAIN_SECONDS_TARGET else 'NOT met'}** ({chain_s:.3f} s; Style Dictionary "
            f"{m(wall['chain-300x100'], 'sd'):.3f} s)."
        )
    if "primer" in wall:
        ok &= ratio("primer") <= FLAT_RATIO_TARGET
        targets.append(
            f"- Target: Charter <= {FLAT_RATIO_TARGET}x Style Dictionary's wall time on a published system "
            f"(`primer`): **{'met' if ratio('primer') <= FLAT_RATIO_TARGET else 'NOT met'}** "
            f"({ratio('primer'):.3f}x). Of Style Dictionary's {decls['primer']:,} declarations, "
            f"{identical['primer']:,} are identical in Charter's output; the others are Style Dictionary's "
            "defects on this input (duration objects written as `[object Object]`, a font list quoted as one "
            "family name) and the three tokens of the non-2025.10 `$type` `custom-string`, which Charter leaves "
            "out with a warning. Charter reads it with `--compat --on-collision suffix --color-format hex`; "
            "Style Dictionary with `node bench/tokens/sd-build.mjs @bench/tokens/work/primer-files.txt OUT/`."
        )

    def row(label: str, name: str) -> str:
        w, c = wall[name], cpu[name]
        return (
            f"| {label} | {decls[name]:,} | {m(w, 'charter'):.3f} s | {m(w, 'sd'):.3f} s | "
            f"**{m(w, 'charter') / m(w, 'sd'):.3f}x** | {min(w['charter']):.3f} / {max(w['charter']):.3f} s | "
            f"{m(c, 'charter'):.3f} s | {m(c, 'sd'):.3f} s | {m(c, 'charter') / m(c, 'sd'):.3f}x | "
            f"{m(w, 'charter-all'):.3f} s |"
        )

    command = " ".join(Path(a).name if a == charter else a for a in commands_shown[chosen[0]])
    command = command.replace(str(ROOT) + "/", "")
    section = "\n".join(
        [
            "## Design tokens (`bench/tokens/`)"
            if chosen == list(DATASETS)
            else f"## Design tokens (`bench/tokens/`): {', '.join(chosen)}",
            "",
            f"Whole processes (start-up included), median of {args.runs} interleaved runs after one warm-up each, "
            f"measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} shared cores "
            f"(load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end: other jobs ran "
            f"on the machine), Python {platform.python_version()}, Node {node_version}, "
            f"Style Dictionary {sd_version}. Both tools read the same DTCG file and write CSS custom properties; "
            "the script checks that the declarations are identical (names, values, order) before and after "
            "timing. CPU is user + system time of the process and all its threads (less sensitive to the "
            "load than wall time).",
            "",
            "| Dataset | Declarations | Charter wall | Style Dictionary 5 wall | Charter / SD (wall) "
            "| Charter min / max wall | Charter CPU | SD CPU | Charter / SD (CPU) | Charter, all formats + npm |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *[row(labels[name], name) for name in chosen],
            "",
            *targets,
            f"- Charter's command: `{command}`, the checkout's `.venv/bin/charter` (an editable install; a "
            "wheel install starts no faster: the modules its import hook loads are loaded by the build anyway). "
            "Style Dictionary's: `node bench/tokens/sd-build.mjs "
            "bench/tokens/work/flat-5000/tokens.json OUT/` (`css` transform group, `css/variables` format, "
            "`usesDtcg`).",
            "",
            f"Produced by `bench/tokens/run --runs {args.runs}"
            f"{'' if chosen == list(DATASETS) else ' --datasets ' + ','.join(chosen)}` "
            "(datasets: `bench/tokens/generate.py`, `dtcg-examples`; peer: "
            "`bench/tokens/sd-build.mjs`, versions pinned in `bench/tokens/package-lock.json`).",
        ]
    )
    print(section)
    if not args.no_write:
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text(encoding="utf-8")
        tag = "tokens" if chosen == list(DATASETS) else "tokens-" + "-".join(chosen)
        start, end = f"<!-- bench:{tag} -->", f"<!-- /bench:{tag} -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            text = f"{head}{start}\n{section}\n{end}{tail}"
        else:
            text = text.rstrip("\n") + f"\n\n{start}\n{section}\n{end}\n"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
