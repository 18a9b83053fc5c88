"""Recognising whole recordings through the streaming API (CLI, tests, benchmarks)."""

from __future__ import annotations

import os
from pathlib import Path

from ari_app.asr.base import Recognition, RecognizerEngine

FRAME_MS = 20


def default_cache_dir() -> Path:
    """Where built domain models are kept: ``$XDG_CACHE_HOME/ari_app/asr`` (or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ari_app" / "asr"


def recognise_pcm(engine: RecognizerEngine, pcm: bytes, sample_rate: int) -> Recognition:
    """Feed ``pcm`` to a new stream in 20 ms frames and return the final result (blocking)."""
    stream = engine.open_stream(sample_rate)
    try:
        step = sample_rate * FRAME_MS // 1000 * 2
        for at in range(0, len(pcm), step):
            stream.accept(pcm[at : at + step])
        return stream.finish()
    finally:
        stream.close()
