"""Piper synthesis: both call rates, speaking rate, sentence streaming, cache, and the
espeak-ng fallback when a line's Piper voice cannot be loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ari_app.asr.noise import telephone
from ari_app.asr.offline import recognise_pcm
from ari_app.asr.whisper_engine import WhisperEngine
from ari_app.call.speech import FALLBACK_VOICE, SpeechKit
from ari_app.tts.base import AudioChunk, Synthesizer, VoiceSettings
from ari_app.tts.cache import AudioCache
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.tts.piper import PiperSynthesizer, is_piper_voice

TWO = "Thank you for calling Harbour Light Dental. How can I help you today?"


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2)))


async def test_piper_speaks_at_both_rates_and_streams_sentences(tmp_path: Path) -> None:
    s16 = PiperSynthesizer(VoiceSettings(voice="piper", sample_rate=16000), tmp_path)
    s8 = PiperSynthesizer(VoiceSettings(voice="piper", sample_rate=8000), tmp_path)
    assert isinstance(s16, Synthesizer)
    chunks: list[AudioChunk] = [c async for c in s16.stream(TWO)]
    assert [c.text for c in chunks] == [
        "Thank you for calling Harbour Light Dental.",
        "How can I help you today?",
    ]
    assert all(c.sample_rate == 16000 and c.duration_s > 0.8 and rms(c.pcm) > 500 for c in chunks)
    narrow = await s8.synthesize("Where do I park?")
    wide = await s16.synthesize("Where do I park?")
    # Piper varies its timing from run to run (the noise inside its model: 0.1 s apart on
    # this one-second phrase was seen): about the same length, where a wrong rate would
    # make one twice the other.
    wide_s, narrow_s = len(wide) / 2 / 16000, len(narrow) / 2 / 8000
    assert abs(wide_s - narrow_s) < 0.25 * wide_s
    cache = AudioCache(tmp_path, s16.name)
    assert cache.get("How can I help you today?", s16.settings) == chunks[1].pcm


async def test_faster_rate_is_shorter(tmp_path: Path) -> None:
    text = "We are open Monday to Friday from eight to five."
    slow = await PiperSynthesizer(VoiceSettings(voice="piper", rate_wpm=130)).synthesize(text)
    fast = await PiperSynthesizer(VoiceSettings(voice="piper", rate_wpm=200)).synthesize(text)
    assert len(fast) < 0.9 * len(slow)


async def test_piper_answers_are_understood_over_the_phone(
    whisper_engine: WhisperEngine, tmp_path: Path
) -> None:
    synth = PiperSynthesizer(VoiceSettings(voice="piper", sample_rate=16000), tmp_path)
    pcm = await synth.synthesize("Free parking is behind the building, on Derby Lane.")
    text = recognise_pcm(whisper_engine, telephone(pcm), 8000).text
    assert "free parking is behind the building" in text


async def test_a_broken_piper_voice_falls_back_to_espeak(
    whisper_engine: WhisperEngine, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-voice.onnx")
    assert is_piper_voice(missing)
    kit = SpeechKit(whisper_engine, tmp_path / "tts")
    speak = kit.chunks(missing, 165)
    pcm = b"".join([chunk.pcm async for chunk in speak("Please hold.")])
    assert rms(pcm) > 300
    assert isinstance(kit.synthesizer(missing, 165), EspeakSynthesizer)
    assert kit.synthesizer(missing, 165).settings.voice == FALLBACK_VOICE
    kit.load_voices(["piper", "en-us"])
    assert isinstance(kit.synthesizer("piper", 165), PiperSynthesizer)
    assert isinstance(kit.synthesizer("en-us", 165), EspeakSynthesizer)


async def test_a_steady_voice_says_the_same_words_the_same_way(tmp_path: Path) -> None:
    settings = VoiceSettings(voice="piper", sample_rate=16000)
    steady = PiperSynthesizer(settings, tmp_path, steady=True)
    lively = PiperSynthesizer(settings, tmp_path)
    assert steady.name != lively.name  # never served each other's cached audio
    first = steady.make("Do you see children?")
    assert steady.make("Do you see children?") == first
    assert lively.make("Do you see children?") != lively.make("Do you see children?")
    assert rms(first) > 500
