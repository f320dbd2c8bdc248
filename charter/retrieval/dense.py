"""The dense side of a retrieval service: whether dense search runs here, and when chunks get vectors.

* Dense retrieval is available when ``retrieval.yaml`` does not say ``dense: off`` and the
  embeddings extra is installed; ``dense: on`` without the extra is a configuration error.
* A write embeds its new chunks at once only when the model is already loaded; otherwise the
  next dense search embeds every chunk that lacks a vector, or :meth:`DenseVectors.embed_all`
  does (``charter index rebuild``, evaluation runs). One embedding pass runs at a time.
* On a server (:meth:`DenseVectors.serve`, called by the start-up hook) a dense search never
  waits for the model to load or for a corpus to be embedded: a background job does it, and
  :meth:`DenseVectors.not_ready` says why dense search must wait meanwhile (the search then runs
  as BM25 and says so). Library and CLI callers wait instead (the default).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from charter.exceptions import ConfigError
from charter.retrieval.embeddings import Embedder, unavailable_reason

if TYPE_CHECKING:
    from charter.retrieval.contract import Contract
    from charter.retrieval.index import LocaleIndex
    from charter.retrieval.store import ChunkStore

#: With :attr:`DenseVectors.background`, a dense search embeds up to this many vector-less chunks
#: in line; more go to the background job.
BACKGROUND_EMBED_MIN = 64


class DenseVectors:
    """The embedder of one service and the jobs that give its chunks vectors.

    ``indexes`` returns every index of the service (what :meth:`embed_all` covers);
    ``on_written`` is called after new vectors are written to ``store``."""

    def __init__(
        self,
        contract: Contract,
        store: ChunkStore,
        indexes: Callable[[], list[LocaleIndex]],
        on_written: Callable[[], None],
    ) -> None:
        self.store = store
        self._indexes = indexes
        self._on_written = on_written
        self._embedder: Embedder | None = None
        self._embed_lock = threading.Lock()  # one embedding pass at a time; concurrent searches wait
        self.background = False
        self._job: threading.Thread | None = None
        self._job_lock = threading.Lock()
        self._stopping = threading.Event()
        self.reason = self._setup(contract)

    def _setup(self, contract: Contract) -> str | None:
        if contract.dense == "off":
            return "dense retrieval is off in retrieval.yaml"
        reason = unavailable_reason()
        if reason and contract.dense == "on":
            raise ConfigError(f"retrieval.yaml says dense: on, but {reason}")
        if reason is None:
            self._embedder = Embedder()
        return reason

    @property
    def available(self) -> bool:
        return self._embedder is not None

    def embed_query(self, text: str) -> Any:
        assert self._embedder is not None
        return self._embedder([text])[0]

    def embed_new(self, touched: list[LocaleIndex]) -> None:
        """Embed now only when the model is already loaded; otherwise dense search embeds lazily."""
        if self._embedder is None or not self._embedder.loaded:
            return
        for idx in {id(i): i for i in touched}.values():
            missing = idx.missing_vectors()
            if missing:
                vecs = self._embedder([c.indexed_text for c in missing])
                idx.set_vectors({c.key: vecs[i] for i, c in enumerate(missing)})

    def embed_all(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Embed every chunk that has no vector yet (loads the model); returns how many were embedded."""
        if self._embedder is None:
            return 0
        targets = self._indexes()
        total = sum(len(idx.missing_vectors()) for idx in targets)
        done = 0
        for idx in targets:
            if self._cancelled():
                break
            done += self.embed_into(idx)
            if progress:
                progress(done, total)
        return done

    def not_ready(self, targets: list[LocaleIndex]) -> str | None:
        """With :attr:`background`: why dense search cannot run right now (a background job is
        loading the model or embedding many chunks; started here when needed), else None."""
        assert self._embedder is not None
        with self._job_lock:
            if self._job is not None and self._job.is_alive():
                return "the embedding model is loading or embedding chunks in the background"
            missing = sum(len(idx.missing_vectors()) for idx in targets)
            if self._embedder.loaded and missing <= BACKGROUND_EMBED_MIN:
                return None  # the few chunks left are embedded in line by the search
            self._job = threading.Thread(target=self._warm_up, name="charter-embed", daemon=True)
            self._job.start()
            return "the embedding model is loading or embedding chunks in the background"

    def warm(self, targets: list[LocaleIndex]) -> None:
        """Start loading the model and embedding what lacks a vector in the background, when
        dense search is available and anything is missing (server start-up)."""
        if self._embedder is None:
            return
        self.not_ready(targets)

    def readiness(self, targets: list[LocaleIndex]) -> str | None:
        """None when dense search can run on ``targets`` now, else why not (nothing is started)."""
        if self._embedder is None:
            return None
        if self._job is not None and self._job.is_alive():
            return "the embedding model is loading or embedding chunks in the background"
        if not self._embedder.loaded:
            return "the embedding model is not loaded yet"
        missing = sum(len(idx.missing_vectors()) for idx in targets)
        if missing > BACKGROUND_EMBED_MIN:
            return f"{missing} chunks have no vector yet"
        return None

    def _warm_up(self) -> None:
        try:
            self.embed_all()
        except Exception:  # reported, and retried by the next dense search
            import structlog

            structlog.get_logger("charter.retrieval").exception("retrieval_embedding_failed")

    def serve(self) -> None:
        """Switch to server behaviour (:attr:`background`): a dense search never waits for the
        model to load or for a corpus to be embedded; it runs as BM25 meanwhile and says so."""
        self._stopping.clear()
        self.background = True

    def stop(self, timeout: float = 30.0) -> None:
        """Leave server behaviour: stop the background embedding job and wait for it while it
        embeds (it stops between two indexes, and writes nothing once told to stop). A job still
        loading the model cannot be cut short (an import of torch takes seconds, tens of them on a
        busy machine) and writes nothing after it, so a shutdown does not wait for it: the
        process may end while it loads (it is a daemon thread)."""
        self.background = False
        self._stopping.set()
        job = self._job
        if job is not None and job.is_alive():
            assert self._embedder is not None
            job.join(timeout if self._embedder.loaded else 0.5)
        if job is None or not job.is_alive():
            self._stopping.clear()  # else the job still sees it, until :meth:`serve` starts anew

    def _cancelled(self) -> bool:
        """In the background job: :meth:`stop` was called (write nothing more)."""
        return self._stopping.is_set() and threading.current_thread() is self._job

    def embed_into(self, idx: LocaleIndex) -> int:
        """Embed the chunks of ``idx`` that lack a vector and write the vectors to the store."""
        assert self._embedder is not None
        if not idx.missing_vectors():
            return 0
        with self._embed_lock:
            missing = idx.missing_vectors()
            if not missing:
                return 0
            vecs = self._embedder([c.indexed_text for c in missing])
            if self._cancelled():
                return 0
            new = {c.key: vecs[i] for i, c in enumerate(missing)}
            idx.set_vectors(new)
            self.store.write_vectors(idx, new)
            self._on_written()
            return len(missing)
