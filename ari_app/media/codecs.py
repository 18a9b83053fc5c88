"""Audio codecs and sample-rate conversion for telephone audio.

Inside ari_app, audio is *PCM*: signed 16-bit little-endian mono samples (``bytes``) at a
stated sample rate in Hertz. On the wire, Asterisk's ``slin16`` RTP payload is the same
samples **big-endian** (network byte order), while chan_websocket carries them in Asterisk's
host byte order (little-endian on x86 and ARM); ``ulaw`` is G.711 mu-law at 8000 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import soxr

_BIAS: Final = 0x84
_CLIP: Final = 32635


@dataclass(frozen=True, slots=True)
class WireFormat:
    """An Asterisk media format as it travels in RTP or chan_websocket frames."""

    name: str
    """Asterisk's format name (``slin16``, ``slin``, ``ulaw``)."""
    sample_rate: int
    """Samples per second, in Hertz."""
    bytes_per_sample: int
    """Bytes one sample takes on the wire."""
    rtp_payload_type: int
    """The RTP payload type number Asterisk uses for it."""

    def frame_bytes(self, ms: int = 20) -> int:
        """Bytes of one frame of ``ms`` milliseconds on the wire."""
        return self.sample_rate * ms // 1000 * self.bytes_per_sample

    def samples(self, ms: int = 20) -> int:
        """Samples in ``ms`` milliseconds."""
        return self.sample_rate * ms // 1000


ULAW: Final = WireFormat("ulaw", 8000, 1, 0)
SLIN: Final = WireFormat("slin", 8000, 2, 10)
SLIN16: Final = WireFormat("slin16", 16000, 2, 118)
FORMATS: Final = {f.name: f for f in (ULAW, SLIN, SLIN16)}


def wire_format(name: str) -> WireFormat:
    """Look up a wire format by Asterisk's name; ``ValueError`` names the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown audio format {name!r}; known: {', '.join(FORMATS)}") from None


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    """The mu-law code of every 16-bit sample (G.711's segment formula), indexed by the
    sample's bits as an unsigned number: one lookup per sample instead of ten array passes.
    """
    samples = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)
    sign = np.where(samples < 0, 0x80, 0).astype(np.int32)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    encoded: npt.NDArray[np.int32] = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return encoded.astype(np.uint8)


_ULAW_ENCODE: Final = _ulaw_encode_table()


def ulaw_encode(pcm: bytes) -> bytes:
    """Encode 16-bit little-endian PCM to G.711 mu-law, one byte per sample."""
    encoded: bytes = _ULAW_ENCODE[np.frombuffer(pcm, dtype="<u2")].tobytes()
    return encoded


def _ulaw_table() -> npt.NDArray[np.int16]:
    """The 16-bit sample of every mu-law code."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


_ULAW_DECODE: Final = _ulaw_table()


def ulaw_decode(data: bytes) -> bytes:
    """Decode G.711 mu-law bytes to 16-bit little-endian PCM."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return _ULAW_DECODE[codes].tobytes()


def swap_bytes(pcm: bytes) -> bytes:
    """Swap the byte order of 16-bit samples (little-endian PCM <-> big-endian slin)."""
    if len(pcm) % 2:
        raise ValueError(f"16-bit audio needs an even number of bytes, got {len(pcm)}")
    return np.frombuffer(pcm, dtype="<i2").astype(">i2").tobytes()


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample 16-bit PCM between rates (soxr, high quality); a no-op when rates match."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return np.asarray(out, dtype="<i2").tobytes()


def encode(pcm: bytes, pcm_rate: int, fmt: WireFormat, *, big_endian: bool = True) -> bytes:
    """Turn PCM at ``pcm_rate`` into the wire payload of ``fmt`` (resampling as needed).

    Linear formats are big-endian for RTP; ``big_endian=False`` for chan_websocket.
    """
    pcm = resample(pcm, pcm_rate, fmt.sample_rate)
    if fmt.name == "ulaw":
        return ulaw_encode(pcm)
    return swap_bytes(pcm) if big_endian else pcm


def decode(payload: bytes, fmt: WireFormat, pcm_rate: int, *, big_endian: bool = True) -> bytes:
    """Turn a wire payload of ``fmt`` into PCM at ``pcm_rate`` (resampling as needed)."""
    if fmt.name == "ulaw":
        pcm = ulaw_decode(payload)
    else:
        pcm = swap_bytes(payload) if big_endian else payload
    return resample(pcm, fmt.sample_rate, pcm_rate)


_HALF_BAND_TAPS: Final = 63
"""Length of the low-pass filter of a factor-of-two stream resampler (2 ms of delay at
16 kHz)."""


def _half_band_filter(taps: int = _HALF_BAND_TAPS) -> npt.NDArray[np.float64]:
    """A windowed-sinc low-pass at 0.45 of the lower rate's band, unity gain (high rate)."""
    n = np.arange(taps) - (taps - 1) / 2
    cutoff = 0.45 * 0.5  # cycles per sample of the higher rate: 3.6 kHz at 16 kHz
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    filt: npt.NDArray[np.float64] = h / h.sum()
    return filt


def _to_pcm(y: npt.NDArray[np.float64]) -> bytes:
    """Float samples rounded and clipped to 16-bit PCM (in place: ``y`` is scratch).

    Two ufuncs rather than ``np.clip``, whose Python-level dispatch cost more than the
    arithmetic on a 20 ms frame."""
    np.rint(y, out=y)
    np.maximum(y, -32768.0, out=y)
    np.minimum(y, 32767.0, out=y)
    return y.astype("<i2").tobytes()


class StreamResampler:
    """Resamples a stream of 16-bit PCM chunks without clicks at chunk edges.

    Telephone rates differ by a factor of two (8 kHz wire, 16 kHz speech engines): those
    go through a 63-tap FIR low-pass with its history carried from chunk to chunk, so
    every 20 ms in gives 20 ms out at once, about 2 ms late. (soxr's streaming resampler
    gives its output in blocks of about 100 ms, which delayed every caller's words, and
    so the end of their turn and their barge-in, by up to that much.) Other ratios use
    soxr's stream.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream: Any = None
        self._filter: npt.NDArray[np.float64] | None = None
        self._history = np.zeros(0)
        """The last input samples, which the filter still needs for the next chunk."""
        self._phase = 0
        if from_rate == to_rate:
            return
        if to_rate in (2 * from_rate, from_rate // 2) and from_rate % 2 == 0:
            self._filter = _half_band_filter()
            if to_rate > from_rate:
                # Upsampling in two phases: the even outputs see only the even taps and the
                # odd outputs the odd ones (the zeros stuffed between input samples add
                # nothing), so each is a short filter over the input itself: half the work,
                # no zero-stuffed copy, the same numbers as filtering the stuffed signal.
                self._even_taps = 2.0 * self._filter[0::2]
                self._odd_taps = 2.0 * self._filter[1::2]
                self._history = np.zeros(len(self._even_taps) - 1)
            else:
                self._history = np.zeros(len(self._filter) - 1)
        else:
            self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality="HQ")

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk (a 2x or x/2 change: exactly twice or half as many samples,
        give or take one for an odd chunk)."""
        if self.from_rate == self.to_rate or not pcm:
            return pcm
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        if self._filter is None:
            out = self._stream.resample_chunk(samples)
            return np.asarray(out, dtype="<i2").tobytes()
        x = samples.astype(np.float64)
        if self.to_rate > self.from_rate:
            return self._upsample(x)
        padded = np.concatenate([self._history, x])
        self._history = padded[len(padded) - len(self._history) :]
        y = np.convolve(padded, self._filter, mode="valid")
        if self.to_rate < self.from_rate:
            y = y[self._phase :: 2]
            self._phase = (self._phase + len(x)) % 2
        return _to_pcm(y)

    def _upsample(self, x: npt.NDArray[np.float64]) -> bytes:
        padded = np.concatenate([self._history, x])
        self._history = padded[len(x) :]
        y = np.empty(2 * len(x))
        y[0::2] = np.convolve(padded, self._even_taps, mode="valid")
        y[1::2] = np.convolve(padded[1:], self._odd_taps, mode="valid")
        return _to_pcm(y)
