"""The app's side of externalMedia over RTP: an asyncio UDP endpoint on our host.

Asterisk sends the caller's audio to ``external_host`` (our endpoint); we learn Asterisk's
RTP address from the channel variables UNICASTRTP_LOCAL_ADDRESS / UNICASTRTP_LOCAL_PORT
and send paced 20 ms frames back. The datagram callback only decodes and enqueues.

The source is locked (``strict_source``, on by default): only datagrams from the exact
``(address, port)`` given to :meth:`RtpTransport.set_remote` reach recognition; anything
from another address or port is dropped and counted in ``ari_app_rtp_foreign_packets_total``
(otherwise anyone who can reach the port could speak as the caller). When ``set_remote``
was given a host name rather than an address, the first packet from that port fixes the
address. Malformed RTP, a wrong payload type and queue overflow are dropped and counted
in ``ari_app_dropped_packets_total`` by reason. With ``strict_source=False`` the endpoint
learns its peer from the first valid packet and only counts foreign sources.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import random
from dataclasses import dataclass

from ari_app import counters
from ari_app.media.codecs import StreamResampler, WireFormat, decode, encode
from ari_app.media.frames import AudioFrame
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
        strict_source: bool = True,
    ) -> None:
        self.fmt = fmt
        self.strict_source = strict_source
        self.pcm_rate = pcm_rate
        self.frames: asyncio.Queue[AudioFrame] = asyncio.Queue(maxsize=max_frames)
        self.stats = RtpStats()
        self.remote: Address | None = None
        self._remote_is_name = False
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
        strict_source: bool = True,
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
        """Send to, and accept only from, Asterisk's RTP address (UNICASTRTP_LOCAL_*)."""
        self.remote = (_normal_ip(host), int(port))
        self._remote_is_name = not _is_ip(host.split("%", 1)[0])

    def _from_remote(self, addr: Address) -> bool:
        """Whether ``addr`` is the peer (learning the peer first when allowed)."""
        source = (_normal_ip(addr[0]), addr[1])
        if self.remote is None:
            if self.strict_source:
                return False
            self.remote = (addr[0], addr[1])
            return True
        if self._remote_is_name and source[1] == self.remote[1]:
            self.remote = (addr[0], addr[1])
            self._remote_is_name = False
            return True
        return source == self.remote

    def _drop(self, reason: str) -> None:
        self.stats.garbage += 1
        counters.RTP_DROPPED_PACKETS.inc(reason=reason)

    def _on_datagram(self, data: bytes, addr: Address) -> None:
        if not self._from_remote(addr):
            self.stats.wrong_source += 1
            counters.RTP_FOREIGN_PACKETS.inc()
            if self.stats.wrong_source == 1 or self.stats.wrong_source % 1000 == 0:
                log.warning(
                    "dropped %d RTP datagram(s) not from Asterisk %s, last from %s:%s",
                    self.stats.wrong_source,
                    self.remote,
                    addr[0],
                    addr[1],
                )
            if self.strict_source:
                return
        try:
            packet = decode_rtp(data)
        except RtpError as exc:
            self._drop("malformed")
            if self.stats.garbage == 1 or self.stats.garbage % 1000 == 0:
                log.warning("ignored %d non-RTP datagram(s), last: %s", self.stats.garbage, exc)
            return
        if packet.payload_type != self.fmt.rtp_payload_type:
            self.stats.wrong_payload_type += 1
            counters.RTP_DROPPED_PACKETS.inc(reason="payload_type")
            return
        if (self.fmt.bytes_per_sample == 2 and len(packet.payload) % 2) or not packet.payload:
            self._drop("malformed")
            return
        self.stats.received += 1
        pcm = self._in_resampler.process(decode(packet.payload, self.fmt, self.fmt.sample_rate))
        if self.frames.full():
            self.frames.get_nowait()
            self.stats.dropped += 1
            counters.RTP_DROPPED_PACKETS.inc(reason="overflow")
        self.frames.put_nowait(AudioFrame(pcm, self.pcm_rate))

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

    async def send(self, frame: AudioFrame) -> None:
        """Queue a mono frame at ``pcm_rate`` (resampled whole to the wire's rate); sent as
        20 ms RTP frames. A frame at another rate raises ``ValueError``."""
        assert self._pacer is not None
        pcm = frame.pcm_at(self.pcm_rate, "the RTP transport")
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
        """Payload bytes still waiting to be sent, as coded for the wire (mu-law: one a
        sample, half the PCM's)."""
        return self._pacer.queued_bytes if self._pacer is not None else 0

    async def close(self) -> None:
        """Stop pacing and close the socket."""
        if self._pacer is not None:
            await self._pacer.close()
            self._pacer = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _normal_ip(host: str) -> str:
    """``host`` in canonical form (``::ffff:10.0.0.1`` -> ``10.0.0.1``); names unchanged.

    Called for every datagram received, so remembered (parsing cost about 1% of a core at
    twenty calls)."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
