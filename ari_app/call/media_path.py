"""Our end of an externalMedia channel: RTP over UDP, or chan_websocket, set up and torn down.

RTP: we bind a UDP port in ``media.port_range``, ask Asterisk for an externalMedia channel
sending to ``advertise_host:port``, and send back to the address Asterisk reports in
UNICASTRTP_LOCAL_ADDRESS / UNICASTRTP_LOCAL_PORT (falling back to the ARI host when it
reports a wildcard). WebSocket: Asterisk creates the media channel and we connect to it.

Either way Asterisk answers the request with the channel still ``Down``; its StasisStart
comes on the events socket after the response, and only then may it join a bridge (before,
Asterisk answers 422 "Channel not in Stasis application"). :func:`open_media` returns once
that StasisStart has arrived.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.ari.models import Channel
from ari_app.call.settle import settled
from ari_app.config.models import MediaSettings
from ari_app.errors import AriAppError, Stage
from ari_app.media.codecs import wire_format
from ari_app.media.pacer import MediaTransport
from ari_app.media.rtp_transport import RtpTransport
from ari_app.media.ws_transport import WebSocketMediaTransport, media_url

_LOGGER = logging.getLogger(__name__)
PCM_RATE = 16000
"""Sample rate in Hertz of the PCM the call works with (recognition, synthesis)."""
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
STASIS_WITHIN_S = 5.0
"""Seconds to wait for a new media channel's StasisStart before giving up on it."""
Entered = Callable[[str, float], Awaitable[None]]
"""Waits until a channel id is in our Stasis application (``CallInbox.entered``)."""


class MediaError(AriAppError):
    """External media could not be set up."""

    stage = Stage.MEDIA


@dataclass(slots=True)
class MediaPath:
    """An externalMedia channel and the transport that carries its audio."""

    channel_id: str
    transport: MediaTransport

    async def close(self, ari: AriClient) -> None:
        """Hang up the media channel (already gone is fine) and free the transport."""
        with contextlib.suppress(AriError):
            await ari.hangup(self.channel_id)
        await self.transport.close()


async def _variable(ari: AriClient, channel: Channel, name: str) -> str:
    """A channel variable from the externalMedia answer, else asked for."""
    value = channel.channelvars.get(name)
    if value:
        return value
    asked = await ari.get_variable(channel.id, name)
    if not asked:
        raise MediaError(f"Asterisk did not report {name} for media channel {channel.id}")
    return asked


async def _bind_rtp(settings: MediaSettings) -> RtpTransport:
    low, high = settings.port_range
    ports = list(range(low, high + 1))
    start = random.randrange(len(ports))
    fmt = wire_format(settings.format)
    for port in ports[start:] + ports[:start]:
        try:
            return await RtpTransport.open(fmt, settings.bind_host, port, pcm_rate=PCM_RATE)
        except OSError:
            continue
    raise MediaError(f"no free UDP port in {low}-{high} on {settings.bind_host}")


async def open_media(
    ari: AriClient, settings: MediaSettings, channel_id: str, entered: Entered
) -> MediaPath:
    """Create the externalMedia channel ``channel_id`` and connect our transport to it.

    Returns once the channel is in our Stasis application (``entered``), so it can be
    bridged at once. On any failure, or cancellation, nothing is left behind.
    """
    if settings.transport == "websocket":
        return await _open_websocket(ari, settings, channel_id, entered)
    transport = await _bind_rtp(settings)
    try:
        port = transport.local_address[1]
        channel = await settled(
            ari.external_media(
                settings.format,
                external_host=f"{settings.advertise_host}:{port}",
                channel_id=channel_id,
                encapsulation="rtp",
                transport="udp",
                direction="both",
            )
        )
        host = await _variable(ari, channel, "UNICASTRTP_LOCAL_ADDRESS")
        remote_port = await _variable(ari, channel, "UNICASTRTP_LOCAL_PORT")
        if host in WILDCARDS:
            host = urlsplit(ari.base_url).hostname or "127.0.0.1"
        transport.set_remote(host, int(remote_port))
        await entered(channel_id, STASIS_WITHIN_S)
    except BaseException:
        await transport.close()
        with contextlib.suppress(AriError):
            await ari.hangup(channel_id)
        raise
    _LOGGER.debug("media %s: our RTP %s, Asterisk's %s:%s", channel_id, port, host, remote_port)
    return MediaPath(channel_id, transport)


async def _open_websocket(
    ari: AriClient, settings: MediaSettings, channel_id: str, entered: Entered
) -> MediaPath:
    try:
        channel = await settled(
            ari.external_media(
                settings.format,
                channel_id=channel_id,
                transport="websocket",
                encapsulation="none",
                connection_type="server",
                direction="both",
            )
        )
        connection = await _variable(ari, channel, "MEDIA_WEBSOCKET_CONNECTION_ID")
        transport = await WebSocketMediaTransport.connect(
            media_url(ari.base_url, connection),
            ari.session,
            headers=ari.auth_headers,
            pcm_rate=PCM_RATE,
        )
    except BaseException:
        with contextlib.suppress(AriError):
            await ari.hangup(channel_id)
        raise
    try:
        await entered(channel_id, STASIS_WITHIN_S)
    except BaseException:
        await MediaPath(channel_id, transport).close(ari)
        raise
    return MediaPath(channel_id, transport)
