"""externalMedia channels of the fake Asterisk (UnicastRTP and chan_websocket).

As on Asterisk 22, ``POST /channels/externalMedia`` answers at once with the channel
``Down`` and not yet in Stasis (``addChannel`` gets 422, channel operations 409 until
then). After the response: ``Dial ""``, then — a moment later for RTP, when the app has
connected the media WebSocket for chan_websocket — ``ChannelStateChange Up`` →
``Dial ANSWER`` → ``StasisStart``. A hangup requested before that is carried out right
after StasisStart (``ChannelHangupRequest`` → ``StasisStart`` → ``StasisEnd`` →
``ChannelDestroyed``). A ``channelId`` already in use gives 500.

RTP: Asterisk sends the format's payload type (slin16: 118) and accepts from the app only
static payload types (≤ 34), see :mod:`ari_app.testing.media`; ``slin`` (8 kHz) has no
static type, so such a channel carries μ-law, as chan_rtp does.
"""

from __future__ import annotations

import asyncio
import uuid

from ari_app.media.codecs import FORMATS, ULAW
from ari_app.testing.agents import AgentOps
from ari_app.testing.media import RtpLeg, WsMediaLeg
from ari_app.testing.model import ChannelKind, FakeChannel, FakeError, Json

INTERNAL_ERROR = "An internal error prevented this request from being handled"


class ExternalMediaOps(AgentOps):
    """externalMedia channels."""

    async def create_external_media(
        self,
        *,
        app: str,
        fmt_name: str,
        channel_id: str | None,
        transport: str,
        encapsulation: str,
        connection_type: str,
        external_host: str,
        variables: dict[str, str],
        data: str,
    ) -> Json:
        """Create the channel and answer ``Down``; it comes up after the response."""
        if fmt_name not in FORMATS:
            raise FakeError(400, f"Unsupported format {fmt_name!r}")
        fmt = FORMATS[fmt_name]
        if channel_id and channel_id in self.channels:
            raise FakeError(500, INTERNAL_ERROR)
        channel_id = channel_id or self.new_id()
        if transport == "websocket":
            if encapsulation != "none":
                raise FakeError(400, "encapsulation must be 'none' for the websocket transport")
            if connection_type != "server":
                raise FakeError(400, "the fake Asterisk has no websocket_client.conf connections")
            connection_id = str(uuid.uuid4())
            channel = FakeChannel(
                id=channel_id,
                name=f"WebSocket/INCOMING/0x{uuid.uuid4().int & 0xFFFFFFFFFFFF:x}",
                kind=ChannelKind.WEBSOCKET,
                channelvars=("MEDIA_WEBSOCKET_CONNECTION_ID", "MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE"),
                dialstring="INCOMING/d(both)",
            )
            leg = WsMediaLeg(channel, fmt, connection_id)
            channel.variables["MEDIA_WEBSOCKET_CONNECTION_ID"] = connection_id
            channel.variables["MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE"] = str(leg.optimal_frame_size)
            channel.deliver = leg.deliver
            channel.closers.append(leg.close)
            channel.closers.append(lambda: self.ws_media.pop(connection_id, None))
            self.ws_media[connection_id] = leg
        else:
            if encapsulation != "rtp" or transport != "udp":
                raise FakeError(400, "the fake Asterisk supports rtp over udp and websocket")
            if connection_type != "client":
                raise FakeError(400, "connection_type 'server' is only valid for websocket")
            host, sep, port = external_host.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise FakeError(400, "external_host must be host:port for RTP")
            wire = ULAW if fmt_name == "slin" else fmt
            channel = FakeChannel(
                id=channel_id,
                name=f"UnicastRTP/{host}:{port}-0x{uuid.uuid4().int & 0xFFFFFFFFFFFF:x}",
                kind=ChannelKind.UNICAST_RTP,
                channelvars=("UNICASTRTP_LOCAL_ADDRESS", "UNICASTRTP_LOCAL_PORT"),
                dialstring=f"{host}:{port}/c({wire.name})",
            )
            rtp = RtpLeg(channel, wire, (host, int(port)))
            local_host, local_port = await rtp.open(self.media_host)
            channel.variables["UNICASTRTP_LOCAL_ADDRESS"] = local_host
            channel.variables["UNICASTRTP_LOCAL_PORT"] = str(local_port)
            channel.deliver = rtp.deliver
            channel.closers.append(rtp.close)
            self.rtp_legs[channel_id] = rtp
        channel.app_name, channel.app_data = "AppDial2", "(Outgoing Line)"
        channel.variables.update(variables)
        if data:
            channel.variables["EXTERNAL_MEDIA_DATA"] = data
        channel.app = app
        channel.originated = True
        channel.media_pending = True
        self.add_channel(channel)
        response = channel.to_json()
        self.after_response(
            lambda: self.spawn(self._dial_media(channel), f"media-answer-{channel.id}")
        )
        return response

    async def _dial_media(self, channel: FakeChannel) -> None:
        """Asterisk's dialling thread: Dial "", then answer (RTP) or wait for the socket."""
        release = channel.release
        if self.hold_media_answers:
            await release.wait()
        if channel.destroyed:
            return
        self.dial_event(channel, "")
        if channel.kind is ChannelKind.WEBSOCKET:
            return  # comes up when the app connects: media_connected()
        if not self.hold_media_answers and self.media_answer_delay > 0:
            await asyncio.sleep(self.media_answer_delay)
        self.media_up(channel)

    def release_media(self, channel_id: str) -> None:
        """With :attr:`hold_media_answers`: let the held externalMedia channel go on."""
        channel = self.channels.get(channel_id)
        if channel is None or not channel.media_pending:
            raise FakeError(409, "no held externalMedia channel with that id")
        channel.release.set()

    def media_connected(self, channel: FakeChannel) -> None:
        """The app connected a chan_websocket channel's media socket (MEDIA_START sent)."""
        self.media_up(channel)

    def media_up(self, channel: FakeChannel) -> None:
        """Answer the media channel and put it into Stasis (or end it, if the app already
        asked to hang it up)."""
        if channel.destroyed or not channel.media_pending:
            return
        channel.media_pending = False
        app = channel.app or ""
        self.set_state(channel, "Up")
        self.dial_event(channel, "ANSWER")
        cause = channel.hangup_pending
        if cause is not None:
            self.emit(app, "ChannelHangupRequest", cause=32, soft=True, channel=channel.to_json())
        self.enter_stasis(channel, app, [])
        if cause is not None:
            self.leave_stasis(channel)
            self.destroy(channel, cause)
