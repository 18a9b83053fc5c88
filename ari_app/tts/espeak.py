"""espeak-ng through pyttsx3's binding, serialised in one worker thread for the whole process.

libespeak-ng's state is process-global and not thread-safe, so every call into it happens
on a single dedicated thread (one ``ThreadPoolExecutor(max_workers=1)`` shared by all
synthesizers). We use pyttsx3's ctypes binding of libespeak-ng (``pyttsx3.drivers._espeak``)
in espeak's *synchronous* mode rather than pyttsx3's espeak driver: that driver runs espeak
asynchronously, and with it (pyttsx3 2.99) voice and rate changes reached the next request
late and some requests came back empty. Do not also call ``pyttsx3.init("espeak")`` in the
same process (espeak can be initialised once). Output (22050 Hz) is resampled with soxr to
8 or 16 kHz and cached on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from ari_app.asr.text import split_sentences
from ari_app.media.codecs import resample
from ari_app.tts.base import AudioChunk, TtsError, VoiceSettings
from ari_app.tts.cache import AudioCache

log = logging.getLogger(__name__)

ESPEAK_RATE: Final = 22050
"""Sample rate in Hertz of espeak-ng's output."""
_BUFFER_MS: Final = 200

_executor_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None
# Touched only on the worker thread:
_espeak: Any = None
_rate = ESPEAK_RATE
_audio = bytearray()
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


def _on_audio(wav: Any, count: int, _events: Any) -> int:
    """espeak's synth callback: collect the samples (runs inside ``Synth``)."""
    if count > 0:
        _audio.extend(ctypes.string_at(wav, count * 2))
    return 0


def _library() -> Any:
    """libespeak-ng, initialised on first use in synchronous mode (on the worker thread)."""
    global _espeak, _rate
    if _espeak is None:
        try:
            from pyttsx3.drivers import _espeak as binding  # noqa: PLC0415
        except (ImportError, OSError) as exc:
            raise TtsError(f"espeak-ng is not usable (apt install espeak-ng): {exc}") from exc
        rate = binding.Initialize(binding.AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS)
        if rate == -1:
            raise TtsError("espeak-ng could not be initialised")
        binding.SetSynthCallback(_on_audio)
        for v in binding.ListVoices(None):
            ident = v.identifier.decode("utf-8")
            _voices[ident.lower()] = ident
            _voices.setdefault(ident.rsplit("/", 1)[-1].lower(), ident)
        _espeak, _rate = binding, rate
    return _espeak


def _voice_id(name: str) -> str:
    _library()
    try:
        return _voices[name.lower()]
    except KeyError:
        english = sorted(k for k in _voices if "/" not in k and k.startswith("en"))
        raise TtsError(
            f"unknown espeak-ng voice {name!r}; English voices: {', '.join(english)}"
        ) from None


def synthesize_blocking(text: str, settings: VoiceSettings) -> bytes:
    """Synthesise ``text`` to PCM at ``settings.sample_rate`` (run on the TTS worker only)."""
    if not any(ch.isalnum() for ch in text):
        return b""
    lib = _library()
    if lib.SetVoiceByName(_voice_id(settings.voice).encode("utf-8")) != lib.EE_OK:
        raise TtsError(f"espeak-ng refused voice {settings.voice!r}")
    lib.SetParameter(lib.RATE, settings.rate_wpm, 0)
    _audio.clear()
    status = lib.Synth(text.encode("utf-8"), flags=lib.CHARS_UTF8 | lib.ENDPAUSE)
    pcm = bytes(_audio)
    _audio.clear()
    if status != lib.EE_OK or not pcm:
        raise TtsError(f"espeak-ng produced no audio for {text[:40]!r} (status {status})")
    return resample(pcm, _rate, settings.sample_rate)


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
        _worker().submit(_voice_id, self.settings.voice).result()

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
