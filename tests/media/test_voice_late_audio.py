"""Late audio is the caller's words, not a gap: the recogniser gets exactly what was said.

When no RTP arrives for a while, the call's ears move the endpointer on by the clock (so a
silent caller still reaches "no input"). That silence used to go into the utterance too:
when our own event loop stalled (a busy machine) and the delayed packets then arrived, the
recogniser heard the caller's words with a made-up pause inside them. Over a real UDP
socket, a caller's packets are held back 300 ms in the middle of a sentence; what the
recogniser is fed must be one unbroken piece of what the caller sent. And a start the VAD
notices late is kept: the sound leading into the detected words goes to the recogniser.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

import numpy as np

from ari_app.asr.streaming import AsyncRecognizer
from ari_app.call.voice import Voice
from ari_app.media.codecs import SLIN16, swap_bytes
from ari_app.media.endpointer import EndpointerSettings
from ari_app.media.frames import AudioFrame
from ari_app.media.rtp import RtpPacket
from ari_app.media.rtp_transport import RtpTransport
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from tests.media.recording_stream import RecordingStream

FRAME = 640
"""20 ms of 16-bit mono audio at 16 kHz."""


def _send(sock: socket.socket, address: tuple[str, int], pcm: bytes, seq: int) -> None:
    """Send 20 ms of slin16 as RTP packet ``seq`` (its timestamp follows the sequence)."""
    sock.sendto(RtpPacket(118, seq, seq * 320, 7, swap_bytes(pcm)).encode(), address)


async def _send_paced(sock: socket.socket, address: tuple[str, int], pcm: bytes, seq: int) -> int:
    """Send ``pcm`` as 20 ms packets by loop deadlines, as Asterisk does; returns the next seq."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    for start in range(0, len(pcm), FRAME):
        _send(sock, address, pcm[start : start + FRAME].ljust(FRAME, b"\0"), seq)
        seq += 1
        due += 0.02
        await asyncio.sleep(max(0.0, due - loop.time()))
    return seq


async def _speech() -> bytes:
    speech = await EspeakSynthesizer(VoiceSettings(sample_rate=16000)).synthesize(
        "Where do I park, and do you take Cigna insurance?"
    )
    return speech[: len(speech) // FRAME * FRAME]


async def _recognised(
    send: Callable[[socket.socket, tuple[str, int]], Awaitable[None]],
    vad: Literal["silero", "webrtc"],
) -> bytes:
    """Run one listening turn while ``send`` plays the caller; what the recogniser got."""
    stream = RecordingStream("heard")

    class Opener:
        def open_stream(self, sample_rate: int) -> RecordingStream:
            return stream

    async def recogniser() -> AsyncRecognizer:
        return await AsyncRecognizer.open(Opener(), 16000)

    async def nothing(text: str) -> AsyncIterator[AudioFrame]:
        return
        yield

    rtp = await RtpTransport.open(SLIN16, pcm_rate=16000, strict_source=False)
    voice = Voice(rtp, nothing, recogniser, EndpointerSettings(vad=vad, speculate_ms=0))
    voice.start()
    try:
        listening = asyncio.create_task(voice.listen())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            await send(sock, rtp.local_address)
            async with asyncio.timeout(10):
                utterance = await listening
    finally:
        await voice.close()
        await rtp.close()
    assert utterance is not None
    assert utterance.text == "heard"
    return b"".join(stream.fed)


async def test_audio_held_back_mid_sentence_reaches_the_recogniser_unbroken() -> None:
    speech = await _speech()
    half = len(speech) // 2 // FRAME * FRAME
    lead, tail = bytes(15 * FRAME), bytes(60 * FRAME)  # 300 ms before, 1.2 s after
    sent = lead + speech + tail

    async def send(sock: socket.socket, address: tuple[str, int]) -> None:
        seq = await _send_paced(sock, address, lead + speech[:half], 1)
        await asyncio.sleep(0.3)  # the packets in between are held back, then all come
        rest = speech[half:]
        for start in range(0, 15 * FRAME, FRAME):
            _send(sock, address, rest[start : start + FRAME], seq)
            seq += 1
        await _send_paced(sock, address, rest[15 * FRAME :] + tail, seq)

    fed = await _recognised(send, "webrtc")
    assert len(fed) >= len(speech), "the recogniser missed some of the caller's speech"
    unbroken = fed in sent
    assert unbroken, "the recogniser heard a pause the caller never made"


async def test_sound_leading_into_the_words_is_kept_beyond_the_pre_roll() -> None:
    """A quiet start Silero does not call speech (here 600 ms of soft noise, as a first
    word it was late on) runs into the words: the recogniser gets all of it, not only the
    300 ms of pre-roll before the detected start."""
    speech = await _speech()
    samples = np.random.default_rng(1).standard_normal(30 * FRAME // 2)
    hum = np.cumsum(samples)
    hum -= np.convolve(hum, np.ones(200) / 200, "same")
    soft = (hum / np.abs(hum).max() * 800).astype("<i2").tobytes()  # about 34 dB
    lead, tail = bytes(25 * FRAME), bytes(60 * FRAME)
    sent = lead + soft + speech + tail

    async def send(sock: socket.socket, address: tuple[str, int]) -> None:
        await _send_paced(sock, address, sent, 1)

    fed = await _recognised(send, "silero")
    unbroken = fed in sent
    assert unbroken, "the recogniser heard a pause the caller never made"
    whole = soft + speech in fed
    assert whole, "the start before the detected speech is lost"
