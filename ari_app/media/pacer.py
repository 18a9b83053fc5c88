"""Real-time pacing of outbound audio by loop deadlines, and the media transport protocol.

:class:`FramePacer` cuts queued PCM into fixed frames and hands one frame per frame time
to a send callback. Frame *n* of a talk spurt is due at ``start + n * frame_s`` on the
loop's clock, so timing does not drift however long each send takes. :meth:`FramePacer.flush`
drops everything queued: after a barge-in at most the frame already handed over is heard.

The pacer carries wire payloads (mu-law, big-endian slin) as bytes, already encoded by its
transport: the call's :class:`~ari_app.media.frames.AudioFrame` is checked and encoded at
:meth:`MediaTransport.send`, one step before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from ari_app.media.frames import AudioFrame

log = logging.getLogger(__name__)
CATCH_UP_S = 0.1
"""Lag (seconds) the pacer catches up by sending late frames back to back; beyond it, it
restarts its clock."""


class MediaTransport(Protocol):
    """What a call needs from an external-media transport (RTP or WebSocket)."""

    pcm_rate: int
    """Sample rate in Hertz of the audio given to :meth:`send` and put on ``frames``."""
    frames: asyncio.Queue[AudioFrame]
    """Received audio: mono frames at ``pcm_rate``."""

    async def send(self, frame: AudioFrame) -> None:
        """Queue audio to be played to the caller (paced by the transport); a frame not mono
        at ``pcm_rate`` raises ``ValueError``."""

    def flush(self) -> None:
        """Drop queued outbound audio now (barge-in)."""

    async def wait_sent(self) -> None:
        """Return when all queued outbound audio has gone out."""

    async def close(self) -> None:
        """Stop sending and receiving; free the socket."""


class FramePacer:
    """Sends ``frame_bytes`` chunks of a wire payload every ``frame_s`` seconds by loop deadlines.

    ``pad`` is the silence byte used to fill a last partial frame (``0xff`` for mu-law).
    """

    def __init__(
        self,
        send_frame: Callable[[bytes], None],
        frame_bytes: int,
        *,
        frame_s: float = 0.02,
        pad: bytes = b"\x00",
        name: str = "pacer",
    ) -> None:
        self._send_frame = send_frame
        self.frame_bytes = frame_bytes
        self.frame_s = frame_s
        self.pad = pad
        self._buffer = bytearray()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=name)
        self.frames_sent = 0
        self.flushes = 0
        self.clock_restarts = 0

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting to be sent."""
        return len(self._buffer)

    def push(self, payload: bytes) -> None:
        """Queue wire payload; a last partial frame is padded with silence when it is due."""
        if self._closed or not payload:
            return
        self._buffer.extend(payload)
        self._idle.clear()
        self._wakeup.set()

    def flush(self) -> None:
        """Drop all queued audio at once (barge-in)."""
        if self._buffer:
            self.flushes += 1
        self._buffer.clear()
        self._idle.set()

    async def wait_idle(self) -> None:
        """Return when every queued frame has been sent (or flushed)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop the pacing task."""
        self._closed = True
        self.flush()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            if not self._task.cancelled():
                raise

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            due = loop.time()
            while self._buffer:
                frame = bytes(self._buffer[: self.frame_bytes])
                del self._buffer[: self.frame_bytes]
                if len(frame) < self.frame_bytes:
                    frame += self.pad * (self.frame_bytes - len(frame))
                try:
                    self._send_frame(frame)
                except OSError as exc:
                    log.warning("sending a media frame failed: %s", exc)
                self.frames_sent += 1
                due += self.frame_s
                delay = due - loop.time()
                if delay < -CATCH_UP_S:
                    # We fell far behind (loop stalled): restart the clock rather than
                    # bursting. Shorter lags are caught up by sending the late frames at
                    # once, so the stream keeps its clock instead of drifting a frame a time.
                    self.clock_restarts += 1
                    due = loop.time()
                    delay = 0.0
                await asyncio.sleep(max(0.0, delay))
            self._idle.set()
