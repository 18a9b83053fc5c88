"""Audio frames that carry their rate: their arithmetic, and every consumer on a call's media
path refusing a frame at a rate it does not work at (it used to play or hear it wrongly)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from ari_app.asr.streaming import AsyncRecognizer
from ari_app.call.tones import ringback
from ari_app.call.voice import Voice
from ari_app.media.codecs import SLIN16, ULAW
from ari_app.media.endpointer import EndpointerSettings
from ari_app.media.frames import AudioFrame
from ari_app.media.rtp import RtpPacket
from ari_app.media.rtp_transport import RtpTransport
from ari_app.media.silero_vad import SileroVad, worker
from ari_app.media.vad import FrameSplitter, VoiceActivityDetector
from tests.media.recording_stream import RecordingStream


def test_samples_and_duration_follow_rate_and_channels() -> None:
    frame = AudioFrame(bytes(640), 16000)
    assert (frame.samples, frame.duration_ms) == (320, 20.0)
    assert AudioFrame(bytes(640), 8000).duration_ms == 40.0
    stereo = AudioFrame(bytes(640), 8000, channels=2)
    assert (stereo.samples, stereo.duration_ms) == (160, 20.0)
    assert AudioFrame(b"", 16000).duration_ms == 0.0


@pytest.mark.parametrize(
    ("pcm", "kwargs", "message"),
    [
        (bytes(321), {}, "not a whole number of 2-byte samples"),
        (bytes(642), {"channels": 2}, "not a whole number of 4-byte samples"),
        (bytes(320), {"width": 1}, "16-bit samples"),
        (bytes(320), {"width": 3}, "16-bit samples"),
        (bytes(320), {"channels": 0}, "at least one channel"),
    ],
)
def test_impossible_frames_are_refused(pcm: bytes, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AudioFrame(pcm, 16000, **kwargs)


def test_a_frame_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        AudioFrame(bytes(2), 0)


def test_pcm_at_names_the_user_and_both_rates() -> None:
    frame = AudioFrame(b"\x01\x02" * 160, 8000)
    assert frame.pcm_at(8000, "x") == b"\x01\x02" * 160
    with pytest.raises(ValueError, match=r"the recogniser takes mono audio at 16000 Hz.* 8000 Hz"):
        frame.pcm_at(16000, "the recogniser")
    with pytest.raises(ValueError, match="2 channel"):
        AudioFrame(bytes(640), 8000, channels=2).pcm_at(8000, "the VAD")


def test_join_keeps_order_and_refuses_mixed_rates() -> None:
    a, b = AudioFrame(b"\x01\x00", 8000), AudioFrame(b"\x02\x00\x03\x00", 8000)
    joined = AudioFrame.join([a, b])
    assert joined == AudioFrame(b"\x01\x00\x02\x00\x03\x00", 8000)
    assert AudioFrame.join([a]) is a
    with pytest.raises(ValueError, match="16000 Hz x 1 after 8000 Hz x 1"):
        AudioFrame.join([a, AudioFrame(b"\x00\x00", 16000)])
    with pytest.raises(ValueError, match="no audio frames"):
        AudioFrame.join([])


def test_the_splitter_cuts_frames_at_their_rate_and_refuses_another() -> None:
    splitter = FrameSplitter(320)
    out = list(splitter.push(AudioFrame(bytes(500), 8000)))
    assert out == [AudioFrame(bytes(320), 8000)]
    out = list(splitter.push(AudioFrame(b"\x01\x00" * 70, 8000)))
    assert out == [AudioFrame(bytes(180) + b"\x01\x00" * 70, 8000)]
    with pytest.raises(ValueError, match="a frame splitter takes mono audio at 8000 Hz"):
        splitter.push(AudioFrame(bytes(640), 16000))
    # Bare bytes (the offline tools' form) still come out as bytes.
    assert list(FrameSplitter(4).push(b"abcdef")) == [b"abcd"]


async def test_webrtc_vad_refuses_frames_at_another_rate() -> None:
    vad = VoiceActivityDetector(16000)
    assert await vad.classify([AudioFrame(bytes(640), 16000), bytes(640)]) == [False, False]
    with pytest.raises(ValueError, match="the webrtc VAD takes mono audio at 16000 Hz"):
        await vad.classify([AudioFrame(bytes(640), 8000)])


async def test_silero_refuses_frames_at_another_rate_before_the_model_sees_any() -> None:
    vad = SileroVad(16000)
    jobs = worker().jobs_done
    with pytest.raises(ValueError, match="the Silero VAD takes mono audio at 16000 Hz"):
        await vad.classify([AudioFrame(bytes(640), 16000), AudioFrame(bytes(320), 8000)])
    assert worker().jobs_done == jobs
    assert await vad.classify([AudioFrame(bytes(640), 16000)]) == [False]
    assert worker().jobs_done == jobs + 1


async def test_the_recogniser_refuses_frames_at_another_rate() -> None:
    stream = RecordingStream()

    class Opener:
        def open_stream(self, sample_rate: int) -> RecordingStream:
            return stream

    async with await AsyncRecognizer.open(Opener(), 16000) as rec:
        await rec.feed(AudioFrame(bytes(640), 16000))
        with pytest.raises(ValueError, match="the recogniser takes mono audio at 16000 Hz"):
            await rec.feed(AudioFrame(bytes(320), 8000))
    assert stream.fed == [bytes(640)]


async def test_rtp_transport_refuses_to_send_a_frame_at_another_rate() -> None:
    rtp = await RtpTransport.open(ULAW, pcm_rate=16000)
    try:
        with pytest.raises(ValueError, match="the RTP transport takes mono audio at 16000 Hz"):
            await rtp.send(AudioFrame(bytes(320), 8000))
        assert rtp.queued_bytes == 0
        await rtp.send(AudioFrame(bytes(640), 16000))
        assert rtp.queued_bytes in (0, 160)  # one 20 ms mu-law frame (maybe already taken)
    finally:
        await rtp.close()


async def test_rtp_transport_hands_on_frames_at_its_rate() -> None:
    rtp = await RtpTransport.open(SLIN16, pcm_rate=8000, strict_source=False)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(RtpPacket(118, 1, 0, 7, bytes(640)).encode(), rtp.local_address)
            async with asyncio.timeout(5):
                frame = await rtp.frames.get()
        assert frame.rate == 8000
        assert frame.channels == 1
        assert abs(frame.duration_ms - 20.0) <= 0.125  # the resampler's odd sample
    finally:
        await rtp.close()


async def test_speech_at_another_rate_than_the_call_is_an_error_not_noise() -> None:
    """A synthesizer at 8 kHz speaking into a 16 kHz call used to play at double speed."""
    rtp = await RtpTransport.open(ULAW, pcm_rate=16000)

    async def speak(text: str) -> AsyncIterator[AudioFrame]:
        yield AudioFrame(bytes(1600), 8000)

    async def no_recogniser() -> AsyncRecognizer:
        raise AssertionError("not listening")

    voice = Voice(rtp, speak, no_recogniser, EndpointerSettings(vad="webrtc"))
    try:
        with pytest.raises(ValueError, match=r"takes mono audio at 16000 Hz.* 8000 Hz"):
            await voice.say("Hello.")
        assert rtp.queued_bytes == 0
    finally:
        await voice.close()
        await rtp.close()


def test_ringback_is_a_frame_at_the_rate_asked() -> None:
    cycle = ringback(8000, on_s=0.5, off_s=0.25)
    assert (cycle.rate, cycle.duration_ms) == (8000, 750.0)
