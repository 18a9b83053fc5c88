"""What every engine's synthesizer shares: sentence streaming, the disk cache, one worker.

A subclass says how to make one sentence's PCM (blocking, on its engine's worker thread)
and which executor that runs on; this class caches sentences on disk, queues all of a
text's sentences at once and yields each as soon as it is made, so the first sentence is
sent while the next are synthesised. Stopping early (barge-in) cancels the rest.

Cached sentences are read without going through the engine's thread, so a cached prompt
never waits behind synthesis. :meth:`SentenceSynthesizer.warm` fills the cache in the
background one sentence at a time, and only while no call is waiting for this voice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

from ari_app.asr.text import split_sentences
from ari_app.media.workers import single_worker
from ari_app.tts.base import AudioChunk, VoiceSettings
from ari_app.tts.cache import AudioCache

_YIELD_S: Final = 0.05
"""How often background warming looks again whether calls still wait for the engine."""


class SentenceSynthesizer:
    """Base of the :class:`~ari_app.tts.base.Synthesizer` implementations."""

    name = "tts"
    """Engine name: part of the cache key (subclasses include their voice model)."""

    def __init__(self, settings: VoiceSettings | None = None, cache_dir: Path | None = None):
        """Speak with ``settings``; cache audio under ``cache_dir`` when given."""
        self.settings = settings or VoiceSettings()
        self._cache = AudioCache(cache_dir, self.name) if cache_dir is not None else None
        self._waiting = 0
        """Sentences a call is waiting for that the engine has not made yet."""

    def make(self, text: str) -> bytes:
        """Blocking: one sentence's PCM at ``settings.sample_rate`` (on :meth:`executor`)."""
        raise NotImplementedError

    def executor(self) -> concurrent.futures.Executor:
        """Where :meth:`make` runs (the engine's worker thread)."""
        raise NotImplementedError

    def _made(self, text: str) -> bytes:
        """Blocking: one sentence from the engine, stored in the cache (runs on the worker)."""
        pcm = self.make(text)
        if self._cache is not None and pcm:
            self._cache.put(text, self.settings, pcm)
        return pcm

    async def _cached(self, text: str) -> bytes | None:
        if self._cache is None:
            return None
        loop = asyncio.get_running_loop()
        reader = single_worker("tts-cache")  # one thread of its own, never the engine's
        return await loop.run_in_executor(reader, self._cache.get, text, self.settings) or None

    async def _submit(self, text: str) -> bytes:
        cached = await self._cached(text)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        self._waiting += 1
        try:
            return await loop.run_in_executor(self.executor(), self._made, text)
        finally:
            self._waiting -= 1

    async def warm(self, text: str) -> None:
        """Put ``text``'s sentences in the cache, yielding the engine to calls that wait."""
        loop = asyncio.get_running_loop()
        for sentence in split_sentences(text):
            if await self._cached(sentence) is not None:
                continue
            # Polling, not an Event: a synthesizer outlives event loops (tests, reloads).
            while self._waiting:  # noqa: ASYNC110
                await asyncio.sleep(_YIELD_S)
            await loop.run_in_executor(self.executor(), self._made, sentence)

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
