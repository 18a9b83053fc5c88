"""The process's shared speech: one recognition engine, one synthesizer per (voice, rate).

A line's ``ai_agent.voice`` picks the engine: ``piper`` (the packaged Piper voice, the
default), a path to a Piper ``.onnx`` voice, or an espeak-ng voice name (``en-us``). When a
Piper voice cannot be loaded (package missing, bad file) the line speaks with espeak-ng
instead (:data:`FALLBACK_VOICE`), with a warning, rather than staying silent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Final

from ari_app.asr.base import BandAwareEngine, RecognizerEngine, RecognizerStream
from ari_app.asr.streaming import AsyncRecognizer
from ari_app.call.media_path import PCM_RATE
from ari_app.call.voice import SpeechChunks
from ari_app.media.frames import AudioFrame
from ari_app.tts import piper
from ari_app.tts.base import TtsError, VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.tts.sentences import SentenceSynthesizer

log = logging.getLogger(__name__)

FALLBACK_VOICE: Final = "en-us"
"""The espeak-ng voice used when a Piper voice is unavailable."""


class SpeechKit:
    """Shared speech: one recognition engine, one synthesizer per (voice, rate)."""

    def __init__(
        self,
        engine: RecognizerEngine,
        tts_cache_dir: Path | None,
        *,
        narrowband: bool | None = None,
    ) -> None:
        self.engine = engine
        self.tts_cache_dir = tts_cache_dir
        self.narrowband = narrowband
        """True: callers are telephone-band; False: wideband; None: each stream finds out."""
        if isinstance(engine, BandAwareEngine) and narrowband is None:
            engine.detect_band = True
        self._synthesizers: dict[tuple[str, int], SentenceSynthesizer] = {}
        self._broken: set[str] = set()
        """Piper voices that failed to load: their lines speak with espeak-ng."""

    def load_voices(self, voices: Iterable[str]) -> None:
        """Blocking: load the Piper voices among ``voices`` now; remember the broken ones."""
        for voice in set(voices):
            if piper.is_piper_voice(voice) and voice not in self._broken:
                try:
                    path = piper.model_path(voice)
                except TtsError as exc:
                    log.warning("%s", exc)
                    ok = False
                else:
                    ok = piper.loaded(path)
                if not ok:
                    log.warning("Piper voice %s unavailable: speaking with espeak-ng", voice)
                    self._broken.add(voice)

    def synthesizer(self, voice: str, rate_wpm: int) -> SentenceSynthesizer:
        """The synthesizer speaking ``voice`` at ``rate_wpm`` at the call's PCM rate."""
        if voice in self._broken:
            voice = FALLBACK_VOICE
        key = (voice, rate_wpm)
        synthesizer = self._synthesizers.get(key)
        if synthesizer is None:
            settings = VoiceSettings(voice=voice, rate_wpm=rate_wpm, sample_rate=PCM_RATE)
            if piper.is_piper_voice(voice):
                try:
                    synthesizer = piper.PiperSynthesizer(settings, self.tts_cache_dir)
                except TtsError as exc:
                    log.warning("%s: speaking with espeak-ng", exc)
                    self._broken.add(voice)
                    return self.synthesizer(FALLBACK_VOICE, rate_wpm)
            else:
                synthesizer = EspeakSynthesizer(settings, self.tts_cache_dir)
            self._synthesizers[key] = synthesizer
        return synthesizer

    def chunks(self, voice: str, rate_wpm: int) -> SpeechChunks:
        """Text -> audio frames, sentence by sentence, for :class:`~ari_app.call.voice.Voice`.

        If the voice fails before its first sentence, the text is spoken with espeak-ng.
        """

        async def speak(text: str) -> AsyncIterator[AudioFrame]:
            synthesizer = self.synthesizer(voice, rate_wpm)
            started = False
            try:
                async for chunk in synthesizer.stream(text):
                    started = True
                    yield chunk.frame
            except TtsError as exc:
                if started or not piper.is_piper_voice(voice):
                    raise
                log.warning("Piper voice %s failed (%s): speaking with espeak-ng", voice, exc)
                self._broken.add(voice)
                async for chunk in self.synthesizer(FALLBACK_VOICE, rate_wpm).stream(text):
                    yield chunk.frame

        return speak

    async def recognizer(self) -> AsyncRecognizer:
        """A recognition stream of its own for one call."""
        return await AsyncRecognizer.open(_BandOpener(self), PCM_RATE, name="asr-call")

    async def warm(self, voice: str, rate_wpm: int, texts: Iterable[str]) -> None:
        """Synthesise ``texts`` ahead (into the disk cache), so calls never wait for them.

        Calls go first: warming makes one sentence at a time, only while no call waits.
        """
        for text in texts:
            try:
                await self.synthesizer(voice, rate_wpm).warm(text)
            except TtsError as exc:
                if not piper.is_piper_voice(voice) or voice in self._broken:
                    raise
                log.warning("Piper voice %s failed (%s): speaking with espeak-ng", voice, exc)
                self._broken.add(voice)
                await self.synthesizer(voice, rate_wpm).warm(text)


class _BandOpener:
    """Opens recognition streams with the callers' bandwidth (pocketsphinx needs to know)."""

    def __init__(self, kit: SpeechKit) -> None:
        self.kit = kit

    def open_stream(self, sample_rate: int) -> RecognizerStream:
        engine = self.kit.engine
        if isinstance(engine, BandAwareEngine):
            return engine.open_stream(sample_rate, narrowband=self.kit.narrowband)
        return engine.open_stream(sample_rate)
