"""Voice activity on real audio: barge-in is flagged within 100 ms of speech onset."""

from __future__ import annotations

import numpy as np
import pytest

from ari_app.asr.audio import read_wav_at
from ari_app.asr.evaldata import stock_prompts
from ari_app.media.codecs import resample
from ari_app.media.endpointer import Endpointer, EndpointerSettings, EndpointEvent
from ari_app.media.vad import FrameSplitter, VoiceActivityDetector

FRAME_MS = 20


def onset_ms(pcm: bytes, rate: int, threshold: int = 500) -> int:
    """Where the audio first exceeds ``threshold`` (the true start of speech)."""
    samples = np.abs(np.frombuffer(pcm, "<i2").astype(np.int32))
    return int(np.argmax(samples > threshold)) * 1000 // rate


def barge_in_delay_ms(speech: bytes, rate: int, lead_ms: int = 1000) -> int:
    """Play silence (with line noise) then ``speech``; ms from onset to the BARGE_IN event."""
    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(rate * lead_ms // 1000) * 30).astype("<i2").tobytes()
    audio = noise + speech
    onset = lead_ms + onset_ms(speech, rate)
    vad = VoiceActivityDetector(rate, aggressiveness=2, frame_ms=FRAME_MS)
    ep = Endpointer(EndpointerSettings(barge_in_ms=60))
    ep.playing = True
    for frame in FrameSplitter(vad.frame_bytes).push(audio):
        if EndpointEvent.BARGE_IN in ep.process(vad.is_speech(frame), FRAME_MS):
            return ep.position_ms - onset
    raise AssertionError("no barge-in detected")


@pytest.mark.parametrize("rate", [8000, 16000])
def test_barge_in_within_100ms_on_espeak_speech(
    rate: int, question_audio_8k: dict[str, bytes]
) -> None:
    delays = []
    for text in list(question_audio_8k)[:10]:
        delays.append(barge_in_delay_ms(resample(question_audio_8k[text], 8000, rate), rate))
    assert max(delays) <= 100, delays
    assert min(delays) >= 0, delays


def test_barge_in_within_100ms_on_recorded_prompts() -> None:
    delays = [barge_in_delay_ms(read_wav_at(p.path, 8000), 8000) for p in stock_prompts()[:10]]
    assert max(delays) <= 100, delays


def test_silence_and_line_noise_are_not_speech() -> None:
    vad = VoiceActivityDetector(8000)
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal(8000) * 30).astype("<i2").tobytes()
    frames = list(FrameSplitter(vad.frame_bytes).push(noise))
    assert sum(vad.is_speech(f) for f in frames) == 0


def test_bad_frames_and_settings_say_what_is_expected() -> None:
    vad = VoiceActivityDetector(16000, frame_ms=20)
    with pytest.raises(ValueError, match="640 bytes"):
        vad.is_speech(b"\0" * 320)
    with pytest.raises(ValueError, match="sample rate"):
        VoiceActivityDetector(11025)
    with pytest.raises(ValueError, match="10, 20 or 30"):
        VoiceActivityDetector(8000, frame_ms=25)


def test_frame_splitter_keeps_the_remainder() -> None:
    splitter = FrameSplitter(4)
    assert list(splitter.push(b"abcdef")) == [b"abcd"]
    assert list(splitter.push(b"gh")) == [b"efgh"]
