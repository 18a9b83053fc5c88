"""Codecs: mu-law known values and round trips, slin byte order, 8 <-> 16 kHz resampling."""

from __future__ import annotations

import numpy as np
import pytest

from ari_app.media import codecs


def pcm(values: list[int]) -> bytes:
    return np.asarray(values, dtype="<i2").tobytes()


def test_ulaw_known_values() -> None:
    # G.711: 0 encodes as 0xFF, full-scale positive as 0x80, full-scale negative as 0x00.
    assert codecs.ulaw_encode(pcm([0, 32767, -32768])) == bytes([0xFF, 0x80, 0x00])
    assert codecs.ulaw_decode(bytes([0xFF, 0x7F, 0x80, 0x00])) == pcm([0, 0, 32124, -32124])


def test_ulaw_round_trip_is_close_and_idempotent() -> None:
    rng = np.random.default_rng(1)
    samples = rng.integers(-32768, 32767, 4000).astype("<i2")
    decoded = np.frombuffer(codecs.ulaw_decode(codecs.ulaw_encode(samples.tobytes())), "<i2")
    error = np.abs(decoded.astype(np.int32) - samples.astype(np.int32))
    # mu-law keeps about 1/16 relative precision (plus a small absolute step near zero).
    assert np.all(error <= np.abs(samples.astype(np.int32)) / 16 + 8)
    all_codes = bytes(range(256))
    # Every code survives decode -> encode, except negative zero (0x7F), which becomes 0xFF.
    assert codecs.ulaw_encode(codecs.ulaw_decode(all_codes)) == bytes(
        0xFF if c == 0x7F else c for c in all_codes
    )
    again = codecs.ulaw_decode(codecs.ulaw_encode(codecs.ulaw_decode(all_codes)))
    assert again == codecs.ulaw_decode(all_codes)


def test_slin_is_big_endian_on_the_wire() -> None:
    little = pcm([0x0102, -2])
    wire = codecs.encode(little, 16000, codecs.SLIN16)
    assert wire == b"\x01\x02\xff\xfe"
    assert codecs.decode(wire, codecs.SLIN16, 16000) == little
    with pytest.raises(ValueError, match="even number"):
        codecs.swap_bytes(b"\x01")


def test_resample_8k_16k_keeps_a_tone() -> None:
    t = np.arange(8000) / 8000
    tone = (10000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    up = codecs.resample(tone, 8000, 16000)
    assert len(up) == 2 * len(tone)
    spectrum = np.abs(np.fft.rfft(np.frombuffer(up, "<i2")))
    assert abs(np.argmax(spectrum) * 16000 / (len(up) // 2) - 440) < 2
    back = codecs.resample(up, 16000, 8000)
    assert len(back) == len(tone)
    assert codecs.resample(tone, 8000, 8000) is tone


def test_wire_formats() -> None:
    assert codecs.ULAW.frame_bytes(20) == 160
    assert codecs.SLIN16.frame_bytes(20) == 640
    assert codecs.wire_format("slin16") is codecs.SLIN16
    with pytest.raises(ValueError, match="known"):
        codecs.wire_format("opus")


def _tone(hz: float, rate: int, seconds: float = 1.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 10000).astype("<i2").tobytes()


def _rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


@pytest.mark.parametrize(("from_rate", "to_rate"), [(8000, 16000), (16000, 8000)])
def test_stream_resampler_gives_each_frame_back_at_once(from_rate: int, to_rate: int) -> None:
    resampler = codecs.StreamResampler(from_rate, to_rate)
    frame = from_rate // 50 * 2
    pcm = _tone(440, from_rate)
    sizes = [len(resampler.process(pcm[at : at + frame])) for at in range(0, len(pcm), frame)]
    assert sizes == [to_rate // 50 * 2] * 50  # no block of ~100 ms held back (soxr's stream)


def test_stream_resampler_keeps_speech_band_and_drops_what_would_alias() -> None:
    def through(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
        resampler = codecs.StreamResampler(from_rate, to_rate)
        frame = from_rate // 50 * 2
        return b"".join(resampler.process(pcm[at : at + frame]) for at in range(0, len(pcm), frame))

    for hz in (300, 1000, 3000):
        down = through(_tone(hz, 16000), 16000, 8000)
        assert _rms(down[400:]) == pytest.approx(7071, rel=0.03)
        up = through(_tone(hz, 8000), 8000, 16000)
        assert _rms(up[800:]) == pytest.approx(7071, rel=0.03)
        spectrum = np.abs(np.fft.rfft(np.frombuffer(up[800:], dtype="<i2")))
        freqs = np.fft.rfftfreq(len(up[800:]) // 2, 1 / 16000)
        assert abs(freqs[int(spectrum.argmax())] - hz) < 5
        assert spectrum[freqs > 4200].max() < 0.01 * spectrum.max()  # no image above 4 kHz
    assert _rms(through(_tone(5000, 16000), 16000, 8000)[400:]) < 100  # filtered, not folded


def test_stream_resampler_has_no_seams_between_chunks() -> None:
    pcm = _tone(1000, 8000)
    whole = codecs.StreamResampler(8000, 16000).process(pcm)
    resampler = codecs.StreamResampler(8000, 16000)
    chunked = b"".join(resampler.process(pcm[at : at + 222]) for at in range(0, len(pcm), 222))
    assert chunked == whole


def test_stream_upsampling_is_the_filter_over_the_zero_stuffed_signal() -> None:
    # The two-phase upsampler must give exactly what the textbook way gives: put a zero
    # after every sample (doubling it to keep the level), then low-pass the whole of it.
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(8000 // 2) * 6000).clip(-32768, 32767).astype("<i2")
    stuffed = np.zeros(2 * len(x))
    stuffed[0::2] = 2.0 * x
    taps = codecs._half_band_filter()
    full = np.convolve(np.concatenate([np.zeros(len(taps) - 1), stuffed]), taps, mode="valid")
    expected = np.clip(np.rint(full), -32768, 32767).astype("<i2")
    resampler = codecs.StreamResampler(8000, 16000)
    raw = x.tobytes()
    got = b"".join(resampler.process(raw[at : at + 2 * 133]) for at in range(0, len(raw), 2 * 133))
    assert np.array_equal(np.frombuffer(got, "<i2"), expected)


def _reference_ulaw(sample: int) -> int:
    """G.711 mu-law of one sample, the classic segment search (as in Sun's g711.c)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    segment = next(s for s in range(8) if magnitude <= (0xFF << s) | 0xFF)
    return ~(sign | (segment << 4) | ((magnitude >> (segment + 3)) & 0x0F)) & 0xFF


def test_ulaw_encode_matches_the_reference_for_every_sample() -> None:
    samples = np.arange(-32768, 32768, dtype="<i2")
    encoded = codecs.ulaw_encode(samples.tobytes())
    assert encoded == bytes(_reference_ulaw(int(s)) for s in samples)
