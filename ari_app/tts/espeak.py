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

import concurrent.futures
import ctypes
import logging
from typing import Any, Final

from ari_app.media.codecs import resample
from ari_app.media.workers import single_worker
from ari_app.tts.base import TtsError, VoiceSettings
from ari_app.tts.sentences import SentenceSynthesizer

log = logging.getLogger(__name__)

ESPEAK_RATE: Final = 22050
"""Sample rate in Hertz of espeak-ng's output."""
_BUFFER_MS: Final = 200

# Touched only on the worker thread:
_espeak: Any = None
_rate = ESPEAK_RATE
_audio = bytearray()
_voices: dict[str, str] = {}


def _worker() -> concurrent.futures.ThreadPoolExecutor:
    """The process's single TTS thread."""
    return single_worker("tts-espeak")


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


class EspeakSynthesizer(SentenceSynthesizer):
    """The espeak-ng :class:`~ari_app.tts.base.Synthesizer`, with an optional disk cache."""

    name = "espeak-ng"

    def make(self, text: str) -> bytes:
        """Blocking: one sentence from libespeak-ng (on the TTS worker)."""
        return synthesize_blocking(text, self.settings)

    def executor(self) -> concurrent.futures.Executor:
        """The process's single espeak-ng thread."""
        return _worker()

    def check_voice(self) -> None:
        """Blocking: raise :class:`TtsError` now if the configured voice does not exist."""
        _worker().submit(_voice_id, self.settings.voice).result()
