"""What every engine's synthesizer shares: sentence streaming, the disk cache, one worker.

A subclass says how to make one sentence's PCM (blocking, on its engine's worker thread)
and which executor that runs on; this class caches sentences on disk, queues all of a
text's sentences at once and yields each as soon as it is made, so the first sentence is
sent while the next are synthesised. Stopping early (barge-in) cancels the rest.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator
from pathlib import Path

from ari_app.asr.text import split_sentences
from ari_app.tts.base import AudioChunk, VoiceSettings
from ari_app.tts.cache import AudioCache


class SentenceSynthesizer:
    """Base of the :class:`~ari_app.tts.base.Synthesizer` implementations."""

    name = "tts"
    """Engine name: part of the cache key (subclasses include their voice model)."""

    def __init__(self, settings: VoiceSettings | None = None, cache_dir: Path | None = None):
        """Speak with ``settings``; cache audio under ``cache_dir`` when given."""
        self.settings = settings or VoiceSettings()
        self._cache = AudioCache(cache_dir, self.name) if cache_dir is not None else None

    def make(self, text: str) -> bytes:
        """Blocking: one sentence's PCM at ``settings.sample_rate`` (on :meth:`executor`)."""
        raise NotImplementedError

    def executor(self) -> concurrent.futures.Executor:
        """Where :meth:`make` runs (the engine's worker thread)."""
        raise NotImplementedError

    def _sentence(self, text: str) -> bytes:
        """Blocking: one sentence from the cache or the engine (runs on the worker)."""
        if self._cache is not None:
            cached = self._cache.get(text, self.settings)
            if cached:
                return cached
        pcm = self.make(text)
        if self._cache is not None and pcm:
            self._cache.put(text, self.settings, pcm)
        return pcm

    async def _submit(self, text: str) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor(), self._sentence, text)

    async def synthesize(self, text: str) -> bytes:
        """All of ``text`` as one block of PCM."""
        return b"".join([chunk.pcm async for chunk in self.stream(text)])

    async def stream(self, text: str) -> AsyncIterator[AudioChunk]:
        """Sentence by sentence: all are queued at once, each is yielded as soon as it is made.

        Stopping early (barge-in) cancels the sentences not yet started.
        """
        sentences = split_sentences(text)
        futures = [asyncio.ensure_future(self._submit(s)) for s in sentences]
        try:
            for sentence, future in zip(sentences, futures, strict=True):
                pcm = await future
                yield AudioChunk(sentence, pcm, self.settings.sample_rate)
        finally:
            for future in futures:
                future.cancel()
