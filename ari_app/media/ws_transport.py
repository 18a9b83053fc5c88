"""The app's side of externalMedia over WebSocket (Asterisk's chan_websocket).

With ``transport=websocket``, ``encapsulation=none`` and ``connection_type=server`` Asterisk
creates a ``WebSocket/...`` channel whose variable MEDIA_WEBSOCKET_CONNECTION_ID names the
connection; the app connects to ``ws://asterisk:8088/media/<id>`` (sub-protocol ``media``).
Asterisk first sends the TEXT message ``MEDIA_START connection_id:.. channel:.. format:..
optimal_frame_size:..`` (or its JSON form); then BINARY frames carry audio both ways and
Asterisk paces playout itself. TEXT commands we send: ``FLUSH_MEDIA`` (barge-in),
``REPORT_QUEUE_DRAINED``, ``HANGUP``; events we honour: ``MEDIA_XOFF``/``MEDIA_XON``
(flow control) and ``QUEUE_DRAINED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp

from ari_app.media.codecs import StreamResampler, WireFormat, decode, encode, wire_format
from ari_app.media.frames import AudioFrame

log = logging.getLogger(__name__)

MEDIA_PROTOCOL = "media"


def media_url(ari_base_url: str, connection_id: str) -> str:
    """The media WebSocket URL for ``connection_id`` given ARI's base URL (``.../ari``)."""
    base = ari_base_url.rstrip("/")
    if base.endswith("/ari"):
        base = base[: -len("/ari")]
    base = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{base}/media/{connection_id}"


def parse_control(text: str) -> tuple[str, dict[str, str]]:
    """Parse a chan_websocket TEXT message (plain ``NAME k:v ...`` or JSON) to name + fields."""
    text = text.strip()
    if text.startswith("{"):
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("control message is not an object")
        name = str(data.get("event") or data.get("command") or "")
        return name, {str(k): str(v) for k, v in data.items() if not isinstance(v, dict)}
    name, _, rest = text.partition(" ")
    fields: dict[str, str] = {}
    for item in rest.split():
        key, sep, value = item.partition(":")
        if sep:
            fields[key] = value
    return name, fields


class WebSocketMediaTransport:
    """One chan_websocket media connection, speaking PCM at ``pcm_rate`` to the app."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, fields: dict[str, str], pcm_rate: int):
        self._ws = ws
        self.media_start = fields
        self.fmt: WireFormat = wire_format(fields.get("format", "slin16"))
        self.pcm_rate = pcm_rate
        self.optimal_frame_size = int(fields.get("optimal_frame_size") or self.fmt.frame_bytes())
        self.frames: asyncio.Queue[AudioFrame] = asyncio.Queue(maxsize=500)
        self.garbage = 0
        self.dropped = 0
        self._in = StreamResampler(self.fmt.sample_rate, pcm_rate)
        self._can_send = asyncio.Event()
        self._can_send.set()
        self._drained = asyncio.Event()
        self._drained.set()
        self._pending = bytearray()
        self._control_tasks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read(), name="ws-media-reader")
        self._writer_wakeup = asyncio.Event()
        self._writer = asyncio.create_task(self._write(), name="ws-media-writer")

    @classmethod
    async def connect(
        cls,
        url: str,
        session: aiohttp.ClientSession,
        *,
        headers: dict[str, str] | None = None,
        pcm_rate: int = 16000,
        start_within: float = 5.0,
    ) -> WebSocketMediaTransport:
        """Connect to Asterisk's media WebSocket and wait (``start_within`` s) for MEDIA_START.

        ``headers`` should carry ARI's basic auth (``AriClient.auth_headers``).
        """
        ws = await session.ws_connect(url, protocols=(MEDIA_PROTOCOL,), headers=headers)
        try:
            async with asyncio.timeout(start_within):
                while True:
                    msg = await ws.receive()
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        name, fields = parse_control(msg.data)
                        if name == "MEDIA_START":
                            return cls(ws, fields, pcm_rate)
                    elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        raise ConnectionError("media WebSocket closed before MEDIA_START")
        except BaseException:
            await ws.close()
            raise

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                data: bytes = msg.data
                if self.fmt.bytes_per_sample == 2 and len(data) % 2:
                    self.garbage += 1
                    continue
                pcm = self._in.process(
                    decode(data, self.fmt, self.fmt.sample_rate, big_endian=False)
                )
                if self.frames.full():
                    self.frames.get_nowait()
                    self.dropped += 1
                self.frames.put_nowait(AudioFrame(pcm, self.pcm_rate))
            elif msg.type is aiohttp.WSMsgType.TEXT:
                self._on_control(msg.data)
            else:
                break
        self._can_send.set()
        self._drained.set()

    def _on_control(self, text: str) -> None:
        try:
            name, _ = parse_control(text)
        except ValueError:
            self.garbage += 1
            return
        if name == "MEDIA_XOFF":
            self._can_send.clear()
        elif name == "MEDIA_XON":
            self._can_send.set()
        elif name == "QUEUE_DRAINED":
            if not self._pending:
                self._drained.set()
        else:
            log.debug("chan_websocket event %s", name)

    async def _write(self) -> None:
        try:
            while True:
                await self._writer_wakeup.wait()
                self._writer_wakeup.clear()
                while self._pending and not self._ws.closed:
                    await self._can_send.wait()
                    chunk = bytes(self._pending[: self.optimal_frame_size])
                    del self._pending[: self.optimal_frame_size]
                    await self._ws.send_bytes(chunk)
                if not self._pending and not self._ws.closed:
                    await self._ws.send_str("REPORT_QUEUE_DRAINED")
        except (ConnectionError, aiohttp.ClientError) as exc:
            log.info("media WebSocket closed while sending: %s", exc)
            self._pending.clear()
            self._drained.set()

    async def send(self, frame: AudioFrame) -> None:
        """Queue a mono frame at ``pcm_rate`` (else ``ValueError``); Asterisk paces it (we
        honour MEDIA_XOFF/XON)."""
        pcm = frame.pcm_at(self.pcm_rate, "the media WebSocket")
        self._pending.extend(encode(pcm, self.pcm_rate, self.fmt, big_endian=False))
        self._drained.clear()
        self._writer_wakeup.set()

    def flush(self) -> None:
        """Barge-in: drop what we have not sent and tell Asterisk to drop its queue."""
        self._pending.clear()
        if not self._ws.closed:
            task = asyncio.get_running_loop().create_task(self._ws.send_str("FLUSH_MEDIA"))
            self._control_tasks.add(task)
            task.add_done_callback(self._control_tasks.discard)
            task.add_done_callback(_log_failure)
        self._drained.set()

    async def wait_sent(self) -> None:
        """Return when Asterisk reports its playout queue drained."""
        await self._drained.wait()

    async def hangup(self) -> None:
        """Ask Asterisk to hang the media channel up."""
        if not self._ws.closed:
            await self._ws.send_str("HANGUP")

    async def close(self) -> None:
        """Close the WebSocket and stop the tasks."""
        await self._ws.close()
        for task in (self._writer, self._reader):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("sending FLUSH_MEDIA failed: %s", task.exception())
