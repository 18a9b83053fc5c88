"""The pocketsphinx engine: the English model inside the wheel, optionally a domain model.

Loading a decoder reads the acoustic model (a few hundred milliseconds), so the engine keeps
a pool of idle decoders: a call checks one out when it opens a stream and gives it back when
the stream closes. Replacing the domain model (:meth:`PocketsphinxEngine.set_domain`) makes
new streams use the new model; decoders of the old model are dropped as they come back.
The acoustic model is 16 kHz; 8 kHz telephone audio is upsampled inside the stream.

Upsampled telephone audio has nothing above 4 kHz, which this wideband model never saw
in training. Filling that empty band with steady noise (a "noise floor" the model treats
as background) measurably lowers the word error rate on narrow-band speech: on Asterisk's
stock prompts from about 60 % to 45 %, see BENCHMARKS.md. Streams fed 8 kHz audio do this
by default; with ``detect_band`` 16 kHz streams do it when their speech shows no energy
above 4 kHz (slin16 upsampled from a ulaw caller). The fill noise runs on from utterance
to utterance within a stream.

Nothing carries over from one call to another: every stream starts its fill noise at the
same place and its cepstral mean from the engine's fixed starting mean for its band, so a
call's words never depend on which pooled decoder it got or what other calls said.

pocketsphinx's Python binding keeps the GIL while decoding: streams in several threads do
not block the event loop for long (about a millisecond per 20 ms frame) but share one core.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import soxr
from pocketsphinx import Config, Decoder

from ari_app.asr.base import AsrError, Recognition, WordTiming
from ari_app.asr.domain import DomainModel

log = logging.getLogger(__name__)

MODEL_RATE: Final = 16000
"""Sample rate in Hertz of the acoustic model in the pocketsphinx wheel."""
_FRAMES_PER_S: Final = 100
_PARTIAL_EVERY_S: Final = 0.2
_NOISE_SECONDS: Final = 8
_NOISE_CUTOFF_HZ: Final = 3800.0
DEFAULT_HIGHBAND_NOISE: Final = 5000.0
"""Standard deviation (16-bit sample units) of the noise filling 3.8-8 kHz of narrow-band audio."""
NARROWBAND_CMN: Final = "68,-28,36,-10,3,12,-26,12,-7,-12,14,-14,0"
"""Starting cepstral mean for narrow-band streams (measured on noise-filled telephone speech);
the model's default suits wideband microphones and spoils a process's first utterance."""
_BAND_EDGE_HZ: Final = 4200.0
_WIDEBAND_SHARE: Final = 1e-3
"""Share of speech energy above 4.2 kHz over which 16 kHz audio counts as wideband."""
_SILENT_POWER: Final = 100.0**2
"""Frames quieter than this mean square amplitude do not count for the band decision."""
_DECIDE_POWER: Final = 5 * 1000.0**2
"""Speech energy needed (about five loud frames) before the band decision is taken."""
_MAX_PENDING: Final = MODEL_RATE // 2
"""Samples a 16 kHz stream holds back at most while it finds out its band."""
_DIGITAL_SILENCE: Final = 32
"""Peak sample value at or below which audio is silence (no microphone is this quiet)."""
_FILLERS: Final = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "[BREATH]"})


@functools.cache
def _highband_noise() -> npt.NDArray[np.float32]:
    """A loop of unit-variance noise above 3.8 kHz at 16 kHz, the same in every process."""
    count = MODEL_RATE * _NOISE_SECONDS
    white = np.random.default_rng(20261125).standard_normal(count)
    spectrum = np.fft.rfft(white)
    spectrum[np.fft.rfftfreq(count, 1 / MODEL_RATE) < _NOISE_CUTOFF_HZ] = 0
    noise = np.fft.irfft(spectrum, count)
    return (noise / np.std(noise)).astype(np.float32)


class PocketsphinxEngine:
    """Pocketsphinx with the wheel's acoustic model; thread-safe; one instance per process."""

    name = "pocketsphinx"

    def __init__(
        self,
        domain: DomainModel | None = None,
        *,
        highband_noise: float = DEFAULT_HIGHBAND_NOISE,
        second_pass: bool = False,
        detect_band: bool = False,
        **options: Any,
    ) -> None:
        """Use ``domain`` as language model (else the wheel's general English model).

        ``highband_noise`` is the noise level filling the empty band of narrow-band audio
        (0 turns it off). ``second_pass`` runs pocketsphinx's flat-lexicon rescoring at the
        end of each utterance: sometimes fewer word errors, always about 1.5 times the CPU
        and a later final result (see BENCHMARKS.md); off by default.
        ``detect_band`` makes 16 kHz streams find out whether their audio is narrow-band.
        ``options`` are extra pocketsphinx settings (e.g. ``beam=1e-48``).
        """
        self.highband_noise = highband_noise
        self.detect_band = detect_band
        options.setdefault("fwdflat", second_pass)
        self._lock = threading.Lock()
        self._options = options
        self._domain = domain
        self._generation = 0
        self._idle: list[tuple[Decoder, bool | None]] = []
        """Idle decoders with the band (narrow?) of their last stream; None: never used."""
        self._cmn: dict[bool, str] = {True: NARROWBAND_CMN}
        """Fixed starting cepstral mean per band (narrow-band measured; wideband the model's)."""

    @property
    def domain(self) -> DomainModel | None:
        """The domain model new streams use (None: general English)."""
        return self._domain

    def _config(self) -> Config:
        settings: dict[str, Any] = {"loglevel": "FATAL"}
        if self._domain is not None:
            settings["lm"] = str(self._domain.lm_path)
            settings["dict"] = str(self._domain.dict_path)
        settings.update(self._options)
        return Config(**settings)

    def set_domain(self, domain: DomainModel | None) -> None:
        """Switch the language model for streams opened from now on."""
        with self._lock:
            if domain == self._domain:
                return
            self._domain = domain
            self._generation += 1
            self._idle.clear()
        log.info("pocketsphinx domain model now %s", domain.fingerprint if domain else "general")

    def warm(self, count: int = 1) -> None:
        """Load ``count`` decoders now (blocking) so the first calls do not wait for them."""
        decoders = [self._checkout()[0] for _ in range(count)]
        for decoder, _ in decoders:
            self._give_back(decoder, self._generation, None)

    def _checkout(self, narrowband: bool | None = None) -> tuple[tuple[Decoder, bool | None], int]:
        with self._lock:
            generation = self._generation
            if self._idle:
                same = [i for i, (_, band) in enumerate(self._idle) if band == narrowband]
                return self._idle.pop(same[-1] if same else -1), generation
            config = self._config()
        try:
            decoder = Decoder(config)
        except RuntimeError as exc:
            raise AsrError(f"pocketsphinx could not load its model: {exc}") from exc
        with self._lock:
            self._cmn.setdefault(False, decoder.get_cmn(False))
        return (decoder, None), generation

    def _give_back(self, decoder: Decoder, generation: int, narrowband: bool | None) -> None:
        with self._lock:
            if generation == self._generation:
                self._idle.append((decoder, narrowband))

    def open_stream(
        self, sample_rate: int, *, narrowband: bool | None = None
    ) -> PocketsphinxStream:
        """Open a stream for PCM at ``sample_rate`` Hertz (blocking: may load a decoder).

        ``narrowband`` says the audio carries nothing above 4 kHz. By default 8 kHz audio is
        narrow-band and 16 kHz audio wideband; with the engine's ``detect_band``, 16 kHz
        audio is held back (up to half a second) until its speech shows whether it has
        energy above 4 kHz (slin16 that Asterisk upsampled from a ulaw caller has none).
        """
        if sample_rate not in (8000, 16000):
            raise AsrError(f"pocketsphinx streams take 8000 or 16000 Hz audio, not {sample_rate}")
        auto = narrowband is None and sample_rate == MODEL_RATE and self.detect_band
        if narrowband is None:
            narrowband = sample_rate == 8000 or auto
        (decoder, _), generation = self._checkout(narrowband)
        # A pooled decoder's feature state (its running cepstral mean and the frames behind
        # it) is reset, then every stream starts from the engine's fixed mean for its band:
        # a new call never inherits another call's channel, and which decoder a call gets
        # does not change its words.
        decoder.reinit_feat()
        cmn = self._cmn.get(narrowband)
        if cmn is not None:
            decoder.set_cmn(cmn)
        return PocketsphinxStream(
            self,
            decoder,
            generation,
            sample_rate,
            noise_level=self.highband_noise,
            narrowband=narrowband,
            detect_band=auto,
        )


class PocketsphinxStream:
    """One call's recognition stream on a pooled decoder (use from one thread at a time)."""

    def __init__(
        self,
        engine: PocketsphinxEngine,
        decoder: Decoder,
        generation: int,
        sample_rate: int,
        *,
        noise_level: float = 0.0,
        narrowband: bool = False,
        detect_band: bool = False,
    ) -> None:
        """Wrap a checked-out decoder; use :meth:`PocketsphinxEngine.open_stream` instead."""
        self._engine = engine
        self._narrowband = narrowband
        self._noise_level = noise_level
        # The noise floor runs on from utterance to utterance within the call: restarting
        # the loop for every utterance measurably raised word errors (15 % against 11 %).
        self._noise_at = 0
        self._detect_band = detect_band
        self._band_known = not detect_band
        self._pending: list[npt.NDArray[np.int16]] = []
        self._pending_samples = 0
        self._high_power = 0.0
        self._all_power = 0.0
        self._decoder: Decoder | None = decoder
        self._generation = generation
        self._rate = sample_rate
        self._resampler: Any = None
        self._in_utt = False
        self._samples = 0
        self._heard = False
        """Whether this utterance had any sound above digital silence."""
        self._since_partial = 0
        self._partial = ""

    @property
    def sample_rate(self) -> int:
        """Sample rate in Hertz of the PCM this stream accepts."""
        return self._rate

    @property
    def narrowband(self) -> bool:
        """Whether the stream now treats its audio as narrow-band (nothing above 4 kHz)."""
        return self._narrowband

    @property
    def _audio_s(self) -> float:
        return self._samples / self._rate

    def _live(self) -> Decoder:
        if self._decoder is None:
            raise AsrError("recognition stream is closed")
        return self._decoder

    def _to_model(self, pcm: bytes, *, last: bool = False) -> bytes:
        """Resample to the model rate and fill the empty band; may hold audio back.

        A 16 kHz stream whose band is not known yet holds up to half a second of audio
        until its speech shows the band, then releases it all, treated alike.
        """
        samples = np.frombuffer(pcm, dtype="<i2")
        if self._rate != MODEL_RATE:
            if self._resampler is None:
                self._resampler = soxr.ResampleStream(self._rate, MODEL_RATE, 1, dtype="int16")
            samples = np.asarray(self._resampler.resample_chunk(samples, last=last))
        if self._detect_band and len(samples):
            self._watch_band(samples)
        if not self._band_known:
            self._pending.append(samples)
            self._pending_samples += len(samples)
            release: list[npt.NDArray[np.int16]] = []
            while self._pending and (last or self._pending_samples > _MAX_PENDING):
                oldest = self._pending.pop(0)
                self._pending_samples -= len(oldest)
                release.append(oldest)
            if not release:
                return b""
            samples = np.concatenate(release)
        elif self._pending:
            samples = np.concatenate([*self._pending, samples])
            self._pending.clear()
            self._pending_samples = 0
        return self._fill(samples)

    def _fill(self, samples: npt.NDArray[np.int16]) -> bytes:
        if self._narrowband and self._noise_level and len(samples):
            noise = _highband_noise()
            idx = (self._noise_at + np.arange(len(samples))) % len(noise)
            self._noise_at = int(idx[-1]) + 1
            mixed = samples.astype(np.float32) + self._noise_level * noise[idx]
            samples = np.clip(mixed, -32768, 32767)
        return np.asarray(samples, dtype="<i2").tobytes()

    def _watch_band(self, samples: npt.NDArray[np.int16]) -> None:
        """Decide from the audio so far whether it is narrow-band (16 kHz input only)."""
        windowed = samples.astype(np.float32) * np.hanning(len(samples)).astype(np.float32)
        power = np.abs(np.fft.rfft(windowed)) ** 2
        freqs = np.fft.rfftfreq(len(samples), 1 / MODEL_RATE)
        total = float(power.sum())
        if total < _SILENT_POWER * len(samples) ** 2:
            return
        self._all_power += total
        self._high_power += float(power[freqs > _BAND_EDGE_HZ].sum())
        if self._all_power > _DECIDE_POWER * len(samples) ** 2:
            wide = self._high_power / self._all_power > _WIDEBAND_SHARE
            first = not self._band_known
            self._band_known = True
            if wide == self._narrowband:
                self._narrowband = not wide
                log.debug("stream audio is %s", "wideband" if wide else "narrow-band")
                if first and self._decoder is not None:
                    cmn = self._engine._cmn.get(self._narrowband)
                    if cmn is not None:
                        self._decoder.set_cmn(cmn)

    def accept(self, pcm: bytes) -> Recognition | None:
        """Feed PCM; every 200 ms of audio, return the partial result if its text changed."""
        decoder = self._live()
        if len(pcm) % 2:
            raise AsrError(f"16-bit PCM needs an even number of bytes, got {len(pcm)}")
        if not self._in_utt:
            decoder.start_utt()
            self._in_utt = True
        data = self._to_model(pcm)
        if data:
            decoder.process_raw(data, False, False)
        count = len(pcm) // 2
        self._samples += count
        self._since_partial += count
        if count and not self._heard:
            self._heard = int(np.abs(np.frombuffer(pcm, dtype="<i2")).max()) > _DIGITAL_SILENCE
        if self._since_partial < _PARTIAL_EVERY_S * self._rate:
            return None
        self._since_partial = 0
        hyp = decoder.hyp()
        text = _clean(hyp.hypstr if hyp is not None else "")
        if text == self._partial:
            return None
        self._partial = text
        return Recognition(text, is_final=False, confidence=0.0, audio_s=self._audio_s)

    def finish(self) -> Recognition:
        """End the utterance: the final text, its posterior confidence and word timings."""
        decoder = self._live()
        audio_s = self._audio_s
        if not self._in_utt:
            return Recognition("", is_final=True, confidence=0.0, audio_s=audio_s)
        needs_tail = self._resampler is not None or bool(self._pending)
        tail = self._to_model(b"", last=True) if needs_tail else b""
        if tail:
            decoder.process_raw(tail, False, False)
        decoder.end_utt()
        self._in_utt = False
        self._resampler = None
        self._samples = self._since_partial = 0
        self._partial = ""
        heard, self._heard = self._heard, False
        hyp = decoder.hyp()
        # Digital silence holds no words (the decoder alone may "hear" one in the fill noise).
        text = _clean(hyp.hypstr if hyp is not None else "") if heard else ""
        words = tuple(
            WordTiming(
                word=seg.word.split("(", 1)[0].lower(),
                start_s=seg.start_frame / _FRAMES_PER_S,
                end_s=(seg.end_frame + 1) / _FRAMES_PER_S,
                confidence=min(1.0, max(0.0, float(seg.prob))),
            )
            for seg in decoder.seg()
            if seg.word not in _FILLERS and not seg.word.startswith("[")
        )
        confidence = sum(w.confidence for w in words) / len(words) if words and text else 0.0
        return Recognition(text, is_final=True, confidence=confidence, audio_s=audio_s, words=words)

    def close(self) -> None:
        """Give the decoder back to the engine's pool."""
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        if self._in_utt:
            decoder.end_utt()
            self._in_utt = False
        self._engine._give_back(decoder, self._generation, self._narrowband)


def _clean(hypstr: str) -> str:
    words = (w.split("(", 1)[0].lower() for w in hypstr.split())
    return " ".join(w for w in words if w not in _FILLERS and not w.startswith("["))
