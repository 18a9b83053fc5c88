"""Late audio is the caller's words, not a gap: the recogniser gets exactly what was said.

When no RTP arrives for a while, the call's ears move the endpointer on by the clock (so a
silent caller still reaches "no input"). That silence used to go into the utterance too:
when our own event loop stalled (a busy machine) and the delayed packets then arrived, the
recogniser heard the caller's words with a made-up pause inside them. Over a real UDP
socket, a caller's packets are held back 300 ms in the middle of a sentence; what the
recogniser is fed must be one unbroken piece of what the caller sent.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

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


async def _send_paced(sock: socket.socket, address: tuple[str, int], pcm: bytes, seq: int) -> int:
    """Send ``pcm`` as 20 ms slin16 RTP packets by loop deadlines; returns the next seq."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    for start in range(0, len(pcm), FRAME):
        payload = swap_bytes(pcm[start : start + FRAME].ljust(FRAME, b"\0"))
        sock.sendto(RtpPacket(118, seq, seq * 320, 7, payload).encode(), address)
        seq += 1
        due += 0.02
        await asyncio.sleep(max(0.0, due - loop.time()))
    return seq


async def test_audio_held_back_mid_sentence_reaches_the_recogniser_unbroken() -> None:
    speech = await EspeakSynthesizer(VoiceSettings(sample_rate=16000)).synthesize(
        "Where do I park, and do you take Cigna insurance?"
    )
    speech = speech[: len(speech) // FRAME * FRAME]
    half = len(speech) // 2 // FRAME * FRAME
    lead, tail = bytes(15 * FRAME), bytes(60 * FRAME)  # 300 ms before, 1.2 s after
    sent = lead + speech + tail

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
    voice = Voice(rtp, nothing, recogniser, EndpointerSettings(vad="webrtc", speculate_ms=0))
    voice.start()
    try:
        listening = asyncio.create_task(voice.listen())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            seq = await _send_paced(sock, rtp.local_address, lead + speech[:half], 1)
            await asyncio.sleep(0.3)  # the packets in between are held back, then all come
            rest = speech[half:]
            for start in range(0, 15 * FRAME, FRAME):
                payload = swap_bytes(rest[start : start + FRAME])
                sock.sendto(RtpPacket(118, seq, seq * 320, 7, payload).encode(), rtp.local_address)
                seq += 1
            await _send_paced(sock, rtp.local_address, rest[15 * FRAME :] + tail, seq)
            async with asyncio.timeout(10):
                utterance = await listening
    finally:
        await voice.close()
        await rtp.close()
    assert utterance is not None
    assert utterance.text == "heard"
    fed = b"".join(stream.fed)
    assert len(fed) >= len(speech), "the recogniser missed some of the caller's speech"
    unbroken = fed in sent
    assert unbroken, "the recogniser heard a pause the caller never made"
