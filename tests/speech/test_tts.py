"""espeak-ng synthesis: rates, sentence streaming, the disk cache, concurrency, bad settings."""

from __future__ import annotations

import asyncio
import threading
import wave
from collections.abc import AsyncGenerator
from pathlib import Path

import numpy as np
import pytest

from ari_app.cli import main
from ari_app.tts.base import AudioChunk, Synthesizer, TtsError, VoiceSettings
from ari_app.tts.cache import AudioCache
from ari_app.tts.espeak import EspeakSynthesizer

TWO = "Thank you for calling Harbour Light Dental. How can I help you today?"


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2)))


async def test_speaks_at_8k_and_16k() -> None:
    s8 = EspeakSynthesizer(VoiceSettings(sample_rate=8000))
    s16 = EspeakSynthesizer(VoiceSettings(sample_rate=16000))
    assert isinstance(s8, Synthesizer)
    a8, a16 = await s8.synthesize("Where do I park?"), await s16.synthesize("Where do I park?")
    assert 0.6 < len(a8) / 2 / 8000 < 3.0
    assert len(a16) / 2 / 16000 == pytest.approx(len(a8) / 2 / 8000, abs=0.01)
    assert rms(a8) > 500
    spectrum = np.abs(np.fft.rfft(np.frombuffer(a16, "<i2")))
    freqs = np.fft.rfftfreq(len(a16) // 2, 1 / 16000)
    assert spectrum[freqs > 4000].sum() > 0.01 * spectrum.sum()  # wideband really is wideband


async def test_stream_yields_sentence_by_sentence(tmp_path: Path) -> None:
    synth = EspeakSynthesizer(VoiceSettings(), tmp_path)
    chunks: list[AudioChunk] = [c async for c in synth.stream(TWO)]
    assert [c.text for c in chunks] == [
        "Thank you for calling Harbour Light Dental.",
        "How can I help you today?",
    ]
    assert all(c.sample_rate == 8000 and c.duration_s > 0.5 for c in chunks)
    assert await synth.synthesize(TWO) == b"".join(c.pcm for c in chunks)


async def test_stopping_early_cancels_the_rest(tmp_path: Path) -> None:
    synth = EspeakSynthesizer(VoiceSettings(), tmp_path)
    text = " ".join(f"This is sentence number {n}." for n in range(1, 30))
    stream = synth.stream(text)
    assert isinstance(stream, AsyncGenerator)
    first = await anext(stream)
    await stream.aclose()  # barge-in: the caller spoke
    assert first.text == "This is sentence number 1."
    cache = AudioCache(tmp_path, synth.name)
    made = sum(
        cache.get(f"This is sentence number {n}.", synth.settings) is not None for n in range(1, 30)
    )
    assert made < 29


async def test_cache_is_used_and_keyed_by_settings(tmp_path: Path) -> None:
    settings = VoiceSettings(rate_wpm=150)
    synth = EspeakSynthesizer(settings, tmp_path)
    pcm = await synth.synthesize("Do you take Cigna?")
    cache = AudioCache(tmp_path, synth.name)
    assert cache.get("Do you take Cigna?", settings) == pcm
    # A planted entry proves the cache is read instead of synthesising again.
    cache.put("Do you take Cigna?", settings, b"\x01\x00" * 10)
    assert await synth.synthesize("Do you take Cigna?") == b"\x01\x00" * 10
    other = VoiceSettings(rate_wpm=150, sample_rate=16000)
    assert cache.key("Do you take Cigna?", other) != cache.key("Do you take Cigna?", settings)
    assert not await asyncio.to_thread(lambda: list(tmp_path.rglob("*.tmp")))


async def test_concurrent_requests_are_serialised_on_one_thread() -> None:
    voices = ["en-us", "en-gb-x-rp", "en-us", "en-gb-x-rp"]
    synths = [
        EspeakSynthesizer(VoiceSettings(voice=v, rate_wpm=140 + 20 * n))
        for n, v in enumerate(voices)
    ]
    text = "Are you open on Saturday?"
    together = await asyncio.gather(*(s.synthesize(text) for s in synths))
    one_by_one = [await s.synthesize(text) for s in synths]
    # espeak-ng output varies by a few samples from run to run; compare durations.
    for a, b in zip(together, one_by_one, strict=True):
        assert len(a) == pytest.approx(len(b), rel=0.02)
        assert rms(a) == pytest.approx(rms(b), rel=0.1)
    # Same voice, faster rate: shorter audio (settings are applied per request).
    assert len(together[2]) < len(together[0])
    assert len(together[3]) < len(together[1])
    names = {t.name for t in threading.enumerate() if t.name.startswith("tts-espeak")}
    assert len(names) == 1


async def test_loop_keeps_running_while_synthesising() -> None:
    synth = EspeakSynthesizer()
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await synth.synthesize(" ".join(["The office is at forty eight Wharf Street."] * 6))
    done.set()
    await task
    assert ticks > 10


async def test_bad_settings_are_clear() -> None:
    with pytest.raises(TtsError, match="8000 or 16000"):
        VoiceSettings(sample_rate=22050)
    with pytest.raises(TtsError, match="words per minute"):
        VoiceSettings(rate_wpm=5)
    with pytest.raises(TtsError, match=r"unknown espeak-ng voice 'klingon'.*en-us"):
        await EspeakSynthesizer(VoiceSettings(voice="klingon")).synthesize("Hello.")
    assert await EspeakSynthesizer().synthesize(" ... ") == b""


def test_say_cli_writes_a_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hello.wav"
    assert main(["say", "Hello there.", "-o", str(out), "--rate", "16000"]) == 0
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() > 8000
    assert capsys.readouterr().out == ""
    assert main(["say", "Hello.", "-o", str(out), "--voice", "nope"]) == 1
    assert "unknown espeak-ng voice" in capsys.readouterr().err
