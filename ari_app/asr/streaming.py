"""Recognition off the event loop: an async stream running its engine in one worker thread.

Each call gets an :class:`AsyncRecognizer` with its own single-thread executor, so the
engine's (synchronous, not thread-safe) stream always runs on the same thread, frames are
recognised in arrival order, and the event loop never waits on the recogniser.

A stream that only stores audio until the end of the utterance (Whisper: it has no
partial results; ``buffers_audio = True``) is not handed each 20 ms frame: at twenty calls
that was a thousand thread wake-ups a second for an append. Its frames are kept here and
handed over, in order, in the same job as the next ``speculate``, ``discard``, ``finish``
or ``close``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

from ari_app.asr.base import Recognition, RecognizerStream
from ari_app.media.frames import AudioFrame

_T = TypeVar("_T")


class _Opener(Protocol):
    def open_stream(self, sample_rate: int) -> RecognizerStream: ...


class AsyncRecognizer:
    """One call's recognition stream, driven from asyncio; create with :meth:`open`."""

    def __init__(self, stream: RecognizerStream, executor: concurrent.futures.Executor) -> None:
        """Wrap an open stream and the executor it must run on; prefer :meth:`open`."""
        self._stream = stream
        self._executor = executor
        self._closed = False
        self._held: list[bytes] | None = [] if getattr(stream, "buffers_audio", False) else None

    @classmethod
    async def open(cls, engine: _Opener, sample_rate: int, *, name: str = "asr") -> AsyncRecognizer:
        """Open a stream on ``engine`` in a new worker thread (loading a model may block)."""
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        loop = asyncio.get_running_loop()
        try:
            stream = await loop.run_in_executor(executor, engine.open_stream, sample_rate)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(stream, executor)

    @property
    def sample_rate(self) -> int:
        """Sample rate in Hertz of the frames :meth:`feed` accepts."""
        return self._stream.sample_rate

    async def _run(self, fn: Callable[..., _T], *args: object) -> _T:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args)
        if self._held:
            held, self._held = b"".join(self._held), []
            call = functools.partial(_after_accept, self._stream, held, call)
        return await loop.run_in_executor(self._executor, call)

    async def feed(self, frame: AudioFrame) -> Recognition | None:
        """Recognise a mono frame at :attr:`sample_rate` (another rate raises ``ValueError``);
        returns a partial result when the text changed."""
        pcm = frame.pcm_at(self._stream.sample_rate, "the recogniser")
        if self._held is not None:
            if len(pcm) % 2:
                raise ValueError(f"16-bit PCM needs an even number of bytes, got {len(pcm)}")
            self._held.append(pcm)
            return None
        return await self._run(self._stream.accept, pcm)

    async def speculate(self) -> None:
        """Start decoding the audio so far (engines that can; others ignore it)."""
        method = getattr(self._stream, "speculate", None)
        if method is not None:
            await self._run(method)

    async def discard(self) -> None:
        """The caller went on: drop the speculative decode."""
        method = getattr(self._stream, "discard", None)
        if method is not None:
            await self._run(method)

    async def finish(self) -> Recognition:
        """End the utterance and return the final result."""
        return await self._run(self._stream.finish)

    async def aclose(self) -> None:
        """Close the stream (returning engine resources) and stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._held:
            self._held.clear()  # nobody will ask for their text
        try:
            await self._run(self._stream.close)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncRecognizer:
        """Use as ``async with await AsyncRecognizer.open(...) as rec``."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close on leaving the block."""
        await self.aclose()


def _after_accept(stream: RecognizerStream, pcm: bytes, call: Callable[[], _T]) -> _T:
    """On the stream's thread: hand it the frames held back, then run ``call``."""
    stream.accept(pcm)
    return call()
