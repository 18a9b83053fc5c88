"""Media legs of the fake Asterisk: the UnicastRTP side of externalMedia and chan_websocket.

An :class:`RtpLeg` is Asterisk's end of an RTP externalMedia channel: a UDP socket on
loopback (its address goes into UNICASTRTP_LOCAL_ADDRESS / _PORT) that sends what the
channel hears to ``external_host`` as 20 ms RTP frames and feeds what it receives into the
channel. As on Asterisk 22 (an externalMedia channel has no SDP), it sends with the
format's payload type (slin16: 118) but accepts only static payload types (≤ 34) from the
app — 0 (μ-law) and 10/11 (8 kHz linear, big-endian) are decoded, whatever the channel's
format; anything else, slin16's 118 included, is silently dropped (:attr:`RtpLeg.dropped`).

A :class:`WsMediaLeg` does the same over a chan_websocket media connection, where linear
audio travels in host byte order (little-endian), both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable

from aiohttp import WSMsgType, web

from ari_app.media.codecs import (
    SLIN,
    ULAW,
    StreamResampler,
    WireFormat,
    decode,
    encode,
    resample,
)
from ari_app.media.rtp import RtpError, RtpPacket
from ari_app.media.rtp import decode as decode_rtp
from ari_app.testing.model import FRAME_BYTES, RATE, FakeChannel

log = logging.getLogger(__name__)

MAX_INBOUND_BYTES = RATE * 2 * 2
"""At most two seconds of RTP audio wait in a channel's jitter buffer."""
SOFTMIX_BACKLOG_BYTES = 4 * FRAME_BYTES
"""Audio a channel may have waiting for the bridge's mixer: with more than four mixing
intervals (80 ms) queued, bridge_softmix.c flushes the channel's buffer before adding the
new frame ("Re-sync the audio"), so a burst of RTP never delays what the caller hears."""
XOFF_BYTES = RATE * 2 * 10
XON_BYTES = RATE * 2 * 5
LAST_STATIC_PT = 34
"""Asterisk maps payload types up to this one without SDP (rtp_engine.c static table)."""
STATIC_DECODABLE = {0: ULAW, 10: SLIN, 11: SLIN}
"""Static payload types the fake decodes."""


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, leg: RtpLeg) -> None:
        self.leg = leg

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.leg.on_datagram(data)


class RtpLeg:
    """Asterisk's UDP end of one externalMedia RTP stream."""

    def __init__(self, channel: FakeChannel, fmt: WireFormat, remote: tuple[str, int]) -> None:
        self.channel = channel
        self.fmt = fmt
        self.remote = remote
        self.transport: asyncio.DatagramTransport | None = None
        self.garbage = 0
        self.dropped = 0
        """Packets with a dynamic payload type (> 34), dropped as Asterisk drops them."""
        self.received = 0
        self.sent = 0
        self._seq = random.randrange(0x10000)
        self._ts = random.randrange(0x100000000)
        self._ssrc = random.randrange(1, 0x100000000)
        self._to_wire = StreamResampler(RATE, fmt.sample_rate)
        self._from_wire = StreamResampler(fmt.sample_rate, RATE)
        self._out = bytearray()

    async def open(self, host: str) -> tuple[str, int]:
        """Bind the socket; returns Asterisk's local RTP address."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _RtpProtocol(self), local_addr=(host, 0)
        )
        self.transport = transport
        sock_host, port = transport.get_extra_info("sockname")[:2]
        return str(sock_host), int(port)

    def on_datagram(self, data: bytes) -> None:
        """Feed one received datagram into the channel (garbage and payload types Asterisk
        cannot map without SDP are counted and dropped)."""
        try:
            packet = decode_rtp(data)
        except RtpError:
            self.garbage += 1
            return
        if packet.payload_type > LAST_STATIC_PT:
            self.dropped += 1
            return
        fmt = STATIC_DECODABLE.get(packet.payload_type)
        if fmt is None or not packet.payload:
            self.garbage += 1
            return
        if fmt.bytes_per_sample == 2 and len(packet.payload) % 2:
            self.garbage += 1
            return
        self.received += 1
        pcm = decode(packet.payload, fmt, fmt.sample_rate)
        if fmt.sample_rate != self.fmt.sample_rate:
            pcm = resample(pcm, fmt.sample_rate, self.fmt.sample_rate)
        inbound = self.channel.inbound
        if len(inbound) > SOFTMIX_BACKLOG_BYTES:
            inbound.clear()
        inbound.extend(self._from_wire.process(pcm))
        if len(inbound) > MAX_INBOUND_BYTES:
            del inbound[: len(inbound) - MAX_INBOUND_BYTES]

    def deliver(self, frame: bytes) -> None:
        """Send 20 ms the channel hears as one RTP packet to the external host."""
        if self.transport is None:
            return
        self._out.extend(encode(self._to_wire.process(frame), self.fmt.sample_rate, self.fmt))
        size = self.fmt.frame_bytes(20)
        while len(self._out) >= size:
            payload = bytes(self._out[:size])
            del self._out[:size]
            packet = RtpPacket(self.fmt.rtp_payload_type, self._seq, self._ts, self._ssrc, payload)
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + self.fmt.samples(20)) & 0xFFFFFFFF
            self.transport.sendto(packet.encode(), self.remote)
            self.sent += 1

    def close(self) -> None:
        """Close the socket."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class WsMediaLeg:
    """Asterisk's end of one chan_websocket media connection (plain-text control messages)."""

    def __init__(self, channel: FakeChannel, fmt: WireFormat, connection_id: str) -> None:
        self.channel = channel
        self.fmt = fmt
        self.connection_id = connection_id
        self.ws: web.WebSocketResponse | None = None
        self.outbox: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.xoff = False
        self.report_drained = False
        self.commands: list[str] = []
        self._to_wire = StreamResampler(RATE, fmt.sample_rate)
        self._from_wire = StreamResampler(fmt.sample_rate, RATE)
        self._out = bytearray()
        self.on_hangup: asyncio.Event = asyncio.Event()
        self.connected = asyncio.Event()

    @property
    def optimal_frame_size(self) -> int:
        """Bytes of 20 ms in the wire format."""
        return self.fmt.frame_bytes(20)

    def media_start(self) -> str:
        """The MEDIA_START control message (plain-text form)."""
        return (
            f"MEDIA_START connection_id:{self.connection_id} channel:{self.channel.name} "
            f"channel_id:{self.channel.id} format:{self.fmt.name} "
            f"optimal_frame_size:{self.optimal_frame_size} ptime:20"
        )

    def deliver(self, frame: bytes) -> None:
        """Queue 20 ms the channel hears as a BINARY frame."""
        if self.ws is None:
            return
        self._out.extend(self._encode(self._to_wire.process(frame)))
        size = self.optimal_frame_size
        while len(self._out) >= size:
            self.outbox.put_nowait(bytes(self._out[:size]))
            del self._out[:size]

    def _encode(self, pcm: bytes) -> bytes:
        """PCM (little-endian, at the format's rate) as chan_websocket sends it: linear
        formats in host order (little-endian), μ-law encoded."""
        if self.fmt.bytes_per_sample == 2:
            return pcm
        return encode(pcm, self.fmt.sample_rate, self.fmt)

    def _decode(self, payload: bytes) -> bytes:
        if self.fmt.bytes_per_sample == 2:
            return payload[: len(payload) - len(payload) % 2]
        return decode(payload, self.fmt, self.fmt.sample_rate)

    def after_tick(self) -> None:
        """Flow control and drain reports after the channel consumed a frame."""
        queued = len(self.channel.inbound)
        if not self.xoff and queued > XOFF_BYTES:
            self.xoff = True
            self.outbox.put_nowait("MEDIA_XOFF")
        elif self.xoff and queued < XON_BYTES:
            self.xoff = False
            self.outbox.put_nowait("MEDIA_XON")
        if self.report_drained and queued == 0:
            self.report_drained = False
            self.outbox.put_nowait("QUEUE_DRAINED")

    async def serve(self, ws: web.WebSocketResponse, on_started: Callable[[], None]) -> None:
        """Run the connection: MEDIA_START (then ``on_started``: the channel is answered),
        then audio and control both ways."""
        self.ws = ws
        self.connected.set()
        writer = asyncio.create_task(self._write(ws), name=f"ws-media-{self.connection_id}")
        try:
            await ws.send_str(self.media_start())
            on_started()
            async for msg in ws:
                if msg.type is WSMsgType.BINARY:
                    pcm = self._decode(msg.data)
                    self.channel.inbound.extend(self._from_wire.process(pcm))
                elif msg.type is WSMsgType.TEXT:
                    self._command(msg.data.strip())
                else:
                    break
        finally:
            self.ws = None
            self.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def _command(self, text: str) -> None:
        name = text.split(" ", 1)[0]
        if text.startswith("{"):
            try:
                name = str(json.loads(text).get("command", ""))
            except (ValueError, AttributeError):
                name = ""
        self.commands.append(name)
        if name == "FLUSH_MEDIA":
            self.channel.inbound.clear()
        elif name == "REPORT_QUEUE_DRAINED":
            self.report_drained = True
        elif name == "HANGUP":
            self.on_hangup.set()
        elif name == "GET_STATUS":
            self.outbox.put_nowait(
                f"STATUS queue_length:{len(self.channel.inbound) // FRAME_BYTES} "
                f"xon_level:{XON_BYTES // FRAME_BYTES} xoff_level:{XOFF_BYTES // FRAME_BYTES} "
                f"queue_full:{'true' if self.xoff else 'false'} bulk_media:false "
                "media_paused:false"
            )
        else:
            log.debug("chan_websocket command %s accepted", name)

    async def _write(self, ws: web.WebSocketResponse) -> None:
        while True:
            item = await self.outbox.get()
            if item is None or ws.closed:
                return
            try:
                if isinstance(item, bytes):
                    await ws.send_bytes(item)
                else:
                    await ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        """Close the WebSocket (the channel hung up)."""
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
