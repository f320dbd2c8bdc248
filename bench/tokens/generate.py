"""Generate the benchmark token sets (deterministic; no randomness from the clock).

* ``flat-5000``: 5,000 DTCG 2025.10 tokens — base colours (sRGB objects, some with alpha),
  dimensions (px and rem), numbers and font weights, plus semantic tokens that alias them
  (some through a second and third alias hop).
* ``chain-300x100``: Style Dictionary's own perf shape — 300 tokens, each behind 100 chained
  alias layers (``layer99.t0 -> layer98.t0 -> … -> layer0.t0``), 30,000 tokens in all.

Usage: ``python bench/tokens/generate.py OUT_DIR``
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any


def _color(rng: random.Random) -> dict[str, Any]:
    value: dict[str, Any] = {
        "colorSpace": "srgb",
        "components": [round(rng.randrange(256) / 255, 4) for _ in range(3)],
    }
    if rng.random() < 0.1:
        value["alpha"] = rng.choice([0.1, 0.25, 0.5, 0.75, 0.9])
    return value


def flat_5000(seed: int = 6) -> dict[str, Any]:
    rng = random.Random(seed)
    doc: dict[str, Any] = {"base": {}, "semantic": {}, "component": {}}
    base = doc["base"]
    colors: list[str] = []
    dims: list[str] = []
    numbers: list[str] = []
    weights: list[str] = []
    # 2,400 base tokens.
    base["color"] = {"$type": "color"}
    for hue in range(60):
        group = base["color"][f"hue{hue}"] = {}
        for step in range(20):
            group[str(step * 50)] = {"$value": _color(rng)}
            colors.append(f"base.color.hue{hue}.{step * 50}")
    base["space"] = {"$type": "dimension"}
    for i in range(600):
        unit = "rem" if i % 3 == 0 else "px"
        value = round(i * 0.25, 2) if unit == "rem" else i * 2
        base["space"][f"s{i}"] = {"$value": {"value": value, "unit": unit}}
        dims.append(f"base.space.s{i}")
    base["opacity"] = {"$type": "number"}
    for i in range(300):
        base["opacity"][f"o{i}"] = {"$value": round(i / 300, 3)}
        numbers.append(f"base.opacity.o{i}")
    base["weight"] = {"$type": "fontWeight"}
    for i in range(300):
        base["weight"][f"w{i}"] = {"$value": 100 + (i % 9) * 100}
        weights.append(f"base.weight.w{i}")
    # 1,800 semantic aliases of base tokens.
    semantic = doc["semantic"]
    pools = [("color", colors), ("space", dims), ("opacity", numbers), ("weight", weights)]
    sem_paths: list[str] = []
    for i in range(1800):
        kind, pool = pools[i % 4] if i % 2 else pools[0]
        group = semantic.setdefault(kind, {}).setdefault(f"g{i // 50}", {})
        group[f"t{i}"] = {"$value": "{" + rng.choice(pool) + "}"}
        sem_paths.append(f"semantic.{kind}.g{i // 50}.t{i}")
    # 800 component tokens aliasing semantic ones (two and three hops).
    component = doc["component"]
    comp_paths: list[str] = []
    for i in range(800):
        target = rng.choice(sem_paths if i < 500 or not comp_paths else comp_paths)
        group = component.setdefault(f"c{i // 40}", {})
        group[f"t{i}"] = {"$value": "{" + target + "}"}
        comp_paths.append(f"component.c{i // 40}.t{i}")
    return doc


def chain(tokens: int = 300, layers: int = 100, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    doc: dict[str, Any] = {}
    for layer in range(layers):
        group = doc[f"layer{layer}"] = {}
        for i in range(tokens):
            if layer == 0:
                group[f"t{i}"] = {"$type": "color", "$value": _color(rng)}
            else:
                group[f"t{i}"] = {"$value": "{layer" + str(layer - 1) + f".t{i}" + "}"}
    return doc


def count(doc: dict[str, Any]) -> int:
    n = 0
    for key, value in doc.items():
        if key.startswith("$") or not isinstance(value, dict):
            continue
        n += 1 if "$value" in value else count(value)
    return n


def main(out: str) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, doc in (("flat-5000", flat_5000()), ("chain-300x100", chain())):
        folder = out_dir / name
        folder.mkdir(exist_ok=True)
        (folder / "tokens.json").write_text(json.dumps(doc, indent=2) + "\n")
        print(f"{name}: {count(doc)} tokens -> {folder / 'tokens.json'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/tokens/work")
