"""What every call shares in one process: ARI, configuration, speech, answers, records.

Models (recognition, embeddings, synthesis) are loaded once here and shared by all calls;
a call only opens its own recognition stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ari_app.answer.engine import AnswerEngine
from ari_app.ari.client import AriClient
from ari_app.asr.base import RecognizerEngine, RecognizerStream
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.streaming import AsyncRecognizer
from ari_app.call.media_path import PCM_RATE
from ari_app.config.models import Config
from ari_app.media.endpointer import EndpointerSettings
from ari_app.routing.ring import RingHistory
from ari_app.store.store import Store
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.voicemail.service import VoicemailService


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
        if isinstance(engine, PocketsphinxEngine) and narrowband is None:
            engine.detect_band = True
        self._synthesizers: dict[tuple[str, int], EspeakSynthesizer] = {}

    def synthesizer(self, voice: str, rate_wpm: int) -> EspeakSynthesizer:
        """The synthesizer speaking ``voice`` at ``rate_wpm`` at the call's PCM rate."""
        key = (voice, rate_wpm)
        if key not in self._synthesizers:
            settings = VoiceSettings(voice=voice, rate_wpm=rate_wpm, sample_rate=PCM_RATE)
            self._synthesizers[key] = EspeakSynthesizer(settings, self.tts_cache_dir)
        return self._synthesizers[key]

    def chunks(self, voice: str, rate_wpm: int) -> Callable[[str], AsyncIterator[bytes]]:
        """Text -> PCM chunks, sentence by sentence, for :class:`~ari_app.call.voice.Voice`."""
        synthesizer = self.synthesizer(voice, rate_wpm)

        async def speak(text: str) -> AsyncIterator[bytes]:
            async for chunk in synthesizer.stream(text):
                yield chunk.pcm

        return speak

    async def recognizer(self) -> AsyncRecognizer:
        """A recognition stream of its own for one call."""
        return await AsyncRecognizer.open(_BandOpener(self), PCM_RATE, name="asr-call")

    async def warm(self, voice: str, rate_wpm: int, texts: Iterable[str]) -> None:
        """Synthesise ``texts`` ahead (into the disk cache), so calls never wait for them."""
        synthesizer = self.synthesizer(voice, rate_wpm)
        for text in texts:
            await synthesizer.synthesize(text)


class _BandOpener:
    """Opens recognition streams with the callers' bandwidth (pocketsphinx needs to know)."""

    def __init__(self, kit: SpeechKit) -> None:
        self.kit = kit

    def open_stream(self, sample_rate: int) -> RecognizerStream:
        engine = self.kit.engine
        if isinstance(engine, PocketsphinxEngine):
            return engine.open_stream(sample_rate, narrowband=self.kit.narrowband)
        return engine.open_stream(sample_rate)


@dataclass(slots=True)
class CallServices:
    """Everything a :class:`~ari_app.call.session.CallSession` needs from the process."""

    ari: AriClient
    config: Callable[[], Config]
    """The configuration in force (reloads take effect for new calls)."""
    speech: SpeechKit
    answers: Callable[[str], Awaitable[AnswerEngine]]
    """The answer engine of a line (built once per line and config generation)."""
    store: Store | None = None
    voicemail: VoicemailService | None = None
    ring_history: RingHistory = field(default_factory=RingHistory)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """Wall clock for routing decisions (a fixed moment in the demo and tests)."""
    endpointer: EndpointerSettings = field(default_factory=EndpointerSettings)
