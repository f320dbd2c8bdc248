"""The strict JSON gate's cost (charter.strictjson.loads) against its peer, plain ``orjson.loads``
(what the gateway parsed with before), and the standard library's ``json.loads`` (what FastAPI
parses request bodies with), on bodies shaped like real requests. CPU time per call (process
time, so other work on the machine hardly counts), median of ROUNDS rounds of interleaved batches."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from charter import strictjson

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 7
BATCH = 2000


def chat(messages: int) -> bytes:
    turns = [{"role": "system", "content": "You answer questions about Lumen's pricing, briefly."}]
    for i in range(messages):
        role = "user" if i % 2 == 0 else "assistant"
        turns.append({"role": role, "content": f"Turn {i}: which plan includes SSO and audit logs? " * 3})
    body = {"model": "support", "messages": turns, "temperature": 0.2, "max_tokens": 256, "metadata": {"risk": "low"}}
    return orjson.dumps(body)


def entry() -> bytes:
    plan = {"id": "pro", "name": "Pro", "price": 99, "currency": "EUR", "features": [f"Feature {i}" for i in range(12)]}
    return orjson.dumps({"data": {"en": plan, "de-DE": {"name": "Pro", "features": plan["features"]}}, "message": "x"})


BODIES = {"chat, 2 messages": chat(1), "chat, 20 messages": chat(19), "content write (pricing plan)": entry()}
PARSERS: dict[str, Callable[[bytes], Any]] = {
    "orjson.loads (peer)": orjson.loads,
    "charter.strictjson.loads": strictjson.loads,
    "json.loads (stdlib)": json.loads,
}


def per_call(fn: Callable[[bytes], Any], body: bytes) -> float:
    start = time.process_time()
    for _ in range(BATCH):
        fn(body)
    return (time.process_time() - start) / BATCH * 1e6


def main() -> None:
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(ROUNDS):
        for body_name, body in BODIES.items():
            for parser_name, fn in PARSERS.items():
                results.setdefault((body_name, parser_name), []).append(per_call(fn, body))
    load = os.getloadavg()[1]
    lines = [
        "<!-- bench:strictjson -->",
        "## Strict JSON gate (`bench/strictjson/`)",
        "",
        f"CPU µs per parse, median of {ROUNDS} interleaved rounds of {BATCH} calls (process time); "
        f"5-minute load average {load:.1f} on 2 cores. Reads parse no body, so the delivery path is "
        "unaffected; a JSON write or a gateway request pays the difference between the first two columns once.",
        "",
        "| body | bytes | " + " | ".join(PARSERS) + " | gate over peer |",
        "| --- | ---: | " + " | ".join("---:" for _ in PARSERS) + " | ---: |",
    ]
    for body_name, body in BODIES.items():
        medians = [statistics.median(results[(body_name, p)]) for p in PARSERS]
        extra = medians[1] - medians[0]
        cells = " | ".join(f"{m:.2f}" for m in medians)
        lines.append(f"| {body_name} | {len(body)} | {cells} | +{extra:.2f} µs |")
    lines += ["", "Produced by `bench/strictjson/run`.", "<!-- /bench:strictjson -->"]
    section = "\n".join(lines)
    print(section)
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8")
    pattern = re.compile(r"<!-- bench:strictjson -->.*?<!-- /bench:strictjson -->", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
