"""Streams that only store audio get their frames in order, in one hand-over per step."""

from __future__ import annotations

import threading

import pytest

from ari_app.asr.base import Recognition
from ari_app.asr.streaming import AsyncRecognizer
from ari_app.media.frames import AudioFrame


class StoringStream:
    """A stream that, like Whisper's, only keeps audio until it is asked for text."""

    buffers_audio = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str]] = []
        self.audio = b""

    @property
    def sample_rate(self) -> int:
        return 8000

    def _note(self, what: str, pcm: bytes = b"") -> None:
        self.calls.append((what, pcm, threading.current_thread().name))

    def accept(self, pcm: bytes) -> Recognition | None:
        self._note("accept", pcm)
        self.audio += pcm
        return None

    def speculate(self) -> None:
        self._note("speculate")

    def finish(self) -> Recognition:
        self._note("finish")
        heard, self.audio = self.audio, b""
        return Recognition(heard.hex(), is_final=True, confidence=1.0, audio_s=len(heard) / 16000)

    def close(self) -> None:
        self._note("close")


class _Opener:
    def __init__(self, stream: StoringStream) -> None:
        self.stream = stream

    def open_stream(self, sample_rate: int) -> StoringStream:
        return self.stream


def frame(n: int) -> AudioFrame:
    return AudioFrame(bytes([n, 0]) * 160, 8000)


async def test_frames_reach_the_stream_in_order_in_one_job_before_each_step() -> None:
    stream = StoringStream()
    rec = await AsyncRecognizer.open(_Opener(stream), 8000, name="held-test")
    for n in range(5):
        assert await rec.feed(frame(n)) is None
    assert stream.calls == []  # nothing handed over frame by frame
    await rec.speculate()
    for n in range(5, 8):
        await rec.feed(frame(n))
    result = await rec.finish()
    assert [what for what, _, _ in stream.calls] == ["accept", "speculate", "accept", "finish"]
    assert stream.calls[0][1] == b"".join(frame(n).pcm for n in range(5))
    assert stream.calls[2][1] == b"".join(frame(n).pcm for n in range(5, 8))
    assert result.text == b"".join(frame(n).pcm for n in range(8)).hex()
    assert {thread for _, _, thread in stream.calls} == {stream.calls[0][2]}
    assert stream.calls[0][2].startswith("held-test")
    await rec.feed(frame(9))
    await rec.aclose()
    assert stream.calls[-1][0] == "close"
    assert len(stream.calls) == 5  # the frame fed before closing was dropped, not decoded


async def test_a_frame_at_the_wrong_rate_is_refused_before_it_is_held() -> None:
    rec = await AsyncRecognizer.open(_Opener(StoringStream()), 8000)
    with pytest.raises(ValueError, match="16000"):
        await rec.feed(AudioFrame(b"\0\0" * 320, 16000))
    await rec.aclose()
