"""The app's side of externalMedia over RTP: an asyncio UDP endpoint on our host.

Asterisk sends the caller's audio to ``external_host`` (our endpoint); we learn Asterisk's
RTP address from the channel variables UNICASTRTP_LOCAL_ADDRESS / UNICASTRTP_LOCAL_PORT
(or from the first valid packet) and send paced 20 ms frames back. The datagram callback
only decodes and enqueues; garbage datagrams are counted and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from ari_app.media.codecs import StreamResampler, WireFormat, decode, encode
from ari_app.media.pacer import FramePacer
from ari_app.media.rtp import RtpError, RtpPacket
from ari_app.media.rtp import decode as decode_rtp

log = logging.getLogger(__name__)

Address = tuple[str, int]


@dataclass(slots=True)
class RtpStats:
    """Counters of one RTP endpoint."""

    received: int = 0
    garbage: int = 0
    wrong_payload_type: int = 0
    wrong_source: int = 0
    dropped: int = 0
    sent: int = 0


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: RtpTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.owner._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)


class RtpTransport:
    """A UDP endpoint that receives and sends one externalMedia stream."""

    def __init__(
        self,
        fmt: WireFormat,
        *,
        pcm_rate: int = 16000,
        max_frames: int = 500,
        strict_source: bool = False,
    ) -> None:
        self.fmt = fmt
        self.strict_source = strict_source
        self.pcm_rate = pcm_rate
        self.frames: asyncio.Queue[bytes] = asyncio.Queue(maxsize=max_frames)
        self.stats = RtpStats()
        self.remote: Address | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._pacer: FramePacer | None = None
        self._seq = random.randrange(0x10000)
        self._ts = random.randrange(0x100000000)
        self._ssrc = random.randrange(1, 0x100000000)
        self._marker = True
        self._in_resampler = StreamResampler(fmt.sample_rate, pcm_rate)

    @classmethod
    async def open(
        cls,
        fmt: WireFormat,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        pcm_rate: int = 16000,
        strict_source: bool = False,
    ) -> RtpTransport:
        """Bind a UDP socket on ``host:port`` (0 = any free port) and start the pacer."""
        self = cls(fmt, pcm_rate=pcm_rate, strict_source=strict_source)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(host, port)
        )
        self._transport = transport
        self._pacer = FramePacer(
            self._send_payload,
            fmt.frame_bytes(20),
            pad=b"\xff" if fmt.name == "ulaw" else b"\x00",
            name=f"rtp-pacer-{self.local_address[1]}",
        )
        return self

    @property
    def local_address(self) -> Address:
        """Our ``(host, port)``: give ``f"{host}:{port}"`` as externalMedia ``external_host``."""
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def set_remote(self, host: str, port: int) -> None:
        """Send to Asterisk's RTP address (UNICASTRTP_LOCAL_ADDRESS / _PORT)."""
        self.remote = (host, int(port))

    def _on_datagram(self, data: bytes, addr: Address) -> None:
        try:
            packet = decode_rtp(data)
        except RtpError as exc:
            self.stats.garbage += 1
            if self.stats.garbage == 1 or self.stats.garbage % 1000 == 0:
                log.warning("ignored %d non-RTP datagram(s), last: %s", self.stats.garbage, exc)
            return
        if packet.payload_type != self.fmt.rtp_payload_type:
            self.stats.wrong_payload_type += 1
            return
        if self.remote is None:
            self.remote = (addr[0], addr[1])
        elif addr[0] != self.remote[0]:
            # Behind NAT or Docker, Asterisk's packets may come from another address than
            # UNICASTRTP_LOCAL_ADDRESS; count it, and drop only when asked to be strict.
            self.stats.wrong_source += 1
            if self.strict_source:
                return
        if (self.fmt.bytes_per_sample == 2 and len(packet.payload) % 2) or not packet.payload:
            self.stats.garbage += 1
            return
        self.stats.received += 1
        pcm = self._in_resampler.process(decode(packet.payload, self.fmt, self.fmt.sample_rate))
        if self.frames.full():
            self.frames.get_nowait()
            self.stats.dropped += 1
        self.frames.put_nowait(pcm)

    def _send_payload(self, payload: bytes) -> None:
        if self._transport is None or self.remote is None:
            return
        packet = RtpPacket(
            self.fmt.rtp_payload_type, self._seq, self._ts, self._ssrc, payload, self._marker
        )
        self._marker = False
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + self.fmt.samples(20)) & 0xFFFFFFFF
        self._transport.sendto(packet.encode(), self.remote)
        self.stats.sent += 1

    async def send(self, pcm: bytes) -> None:
        """Queue PCM at ``pcm_rate`` (one chunk is resampled whole); sent as 20 ms RTP frames."""
        assert self._pacer is not None
        wire = encode(pcm, self.pcm_rate, self.fmt)
        self._pacer.push(wire)

    def flush(self) -> None:
        """Drop queued outbound audio (barge-in): at most one more frame is heard."""
        if self._pacer is not None:
            self._pacer.flush()
            self._marker = True

    async def wait_sent(self) -> None:
        """Return when all queued audio has been sent."""
        if self._pacer is not None:
            await self._pacer.wait_idle()

    @property
    def queued_bytes(self) -> int:
        """PCM bytes still waiting to be sent."""
        return self._pacer.queued_bytes if self._pacer is not None else 0

    async def close(self) -> None:
        """Stop pacing and close the socket."""
        if self._pacer is not None:
            await self._pacer.close()
            self._pacer = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
