"""pyttsx3 on espeak-ng, serialised in one worker thread for the whole process.

pyttsx3's espeak driver wraps libespeak-ng, whose state is process-global and not
thread-safe, so every pyttsx3 call happens on a single dedicated thread (one
``ThreadPoolExecutor(max_workers=1)`` shared by all synthesizers). espeak-ng produces
22050 Hz audio, which is resampled with soxr to 8 or 16 kHz and cached on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import logging
import tempfile
import threading
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import pyttsx3

from ari_app.asr.text import split_sentences
from ari_app.media.codecs import resample
from ari_app.tts.base import AudioChunk, TtsError, VoiceSettings
from ari_app.tts.cache import AudioCache

log = logging.getLogger(__name__)

ESPEAK_RATE: Final = 22050
"""Sample rate in Hertz of espeak-ng's output."""
_ATTEMPTS: Final = 3

_executor_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None
_engine: Any = None  # the pyttsx3 engine; touched only on the worker thread
_voices: dict[str, str] = {}


def _worker() -> concurrent.futures.ThreadPoolExecutor:
    """The process's single TTS thread."""
    global _executor  # noqa: PLW0603
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="tts-espeak"
            )
        return _executor


def _pyttsx3() -> Any:
    """The pyttsx3 engine, created on first use (on the worker thread)."""
    global _engine  # noqa: PLW0603
    if _engine is None:
        try:
            _engine = pyttsx3.init("espeak")
        except Exception as exc:
            raise TtsError(f"espeak-ng is not usable (apt install espeak-ng): {exc}") from exc
        for v in _engine.getProperty("voices"):
            _voices[v.id] = v.id
            _voices.setdefault(v.id.rsplit("/", 1)[-1], v.id)
    return _engine


def _voice_id(name: str) -> str:
    try:
        return _voices[name.lower()]
    except KeyError:
        english = sorted(k for k in _voices if "/" not in k and k.startswith("en"))
        raise TtsError(
            f"unknown espeak-ng voice {name!r}; English voices: {', '.join(english)}"
        ) from None


def synthesize_blocking(text: str, settings: VoiceSettings) -> bytes:
    """Synthesise ``text`` to PCM at ``settings.sample_rate`` (run on the TTS worker only).

    The pyttsx3 driver now and then returns no audio for a sentence; that is retried.
    """
    if not any(ch.isalnum() for ch in text):
        return b""
    for attempt in range(1, _ATTEMPTS + 1):
        pcm = _synthesize_once(text, settings)
        if pcm:
            return pcm
        log.warning("espeak-ng returned no audio for %r (attempt %d)", text[:40], attempt)
    raise TtsError(f"espeak-ng produced no audio for {text[:40]!r}")


def _synthesize_once(text: str, settings: VoiceSettings) -> bytes:
    engine = _pyttsx3()
    engine.setProperty("voice", _voice_id(settings.voice))
    engine.setProperty("rate", settings.rate_wpm)
    with tempfile.TemporaryDirectory(prefix="ari-tts-") as tmp:
        path = Path(tmp) / "out.wav"
        engine.save_to_file(text, str(path))
        # The driver prints "Audio saved to ..." on stdout; keep stdout clean for the CLI.
        with contextlib.redirect_stdout(io.StringIO()):
            engine.runAndWait()
        if not path.is_file():
            return b""
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            pcm = wav.readframes(wav.getnframes())
    return resample(pcm, rate, settings.sample_rate)


class EspeakSynthesizer:
    """The espeak-ng :class:`~ari_app.tts.base.Synthesizer`, with an optional disk cache."""

    name = "espeak-ng"

    def __init__(self, settings: VoiceSettings | None = None, cache_dir: Path | None = None):
        """Speak with ``settings``; cache audio under ``cache_dir`` when given."""
        self.settings = settings or VoiceSettings()
        self._cache = AudioCache(cache_dir, self.name) if cache_dir is not None else None

    def _sentence(self, text: str) -> bytes:
        """Blocking: one sentence from the cache or the engine (runs on the TTS worker)."""
        if self._cache is not None:
            cached = self._cache.get(text, self.settings)
            if cached:
                return cached
        pcm = synthesize_blocking(text, self.settings)
        if self._cache is not None and pcm:
            self._cache.put(text, self.settings, pcm)
        return pcm

    def check_voice(self) -> None:
        """Blocking: raise :class:`TtsError` now if the configured voice does not exist."""
        _worker().submit(lambda: (_pyttsx3(), _voice_id(self.settings.voice))).result()

    async def _submit(self, text: str) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_worker(), self._sentence, text)

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
