"""ARI channel routes of the fake Asterisk (``/channels/...``).

Operations on a channel that is not in Stasis answer 409 "Channel not in Stasis
application" (404 once it is gone), as Asterisk's ``find_control`` does; ``DELETE`` works
on any channel. See :mod:`ari_app.testing.channels` for the event sequences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ari_app.testing.model import (
    HANGUP_REASONS,
    ChannelKind,
    FakeBridge,
    FakeChannel,
    FakeError,
)
from ari_app.testing.request import AriRequest, Created, Result, variables_of

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk


class ChannelHandlers:
    """The ``/channels`` routes."""

    fake: FakeAsterisk

    # --- channels -------------------------------------------------------------------

    async def list_channels(self, req: AriRequest) -> Result:
        """GET /channels."""
        return [c.to_json() for c in self.fake.channels.values()]

    async def get_channel(self, req: AriRequest) -> Result:
        """GET /channels/{channelId}."""
        return self.fake.channel(req.path["channelId"]).to_json()

    def _endpoint(self, endpoint: str) -> Any:
        agent = self.fake.endpoints.get(endpoint)
        if agent is None:
            raise FakeError(400, f"Invalid parameters for originating a channel: {endpoint}")
        return agent

    async def _originate(self, req: AriRequest, channel_id: str | None) -> Result:
        app = req.get("app") or None
        if app is None:
            raise FakeError(400, "the fake Asterisk originates into Stasis only: 'app' is needed")
        agent = self._endpoint(req.get("endpoint"))
        channel = self.fake.new_agent_channel(
            agent, app, channel_id=channel_id, caller_id=req.get("callerId")
        )
        channel.variables.update(variables_of(req.variables))
        timeout = req.number("timeout", 30)
        args = [a for a in req.get("appArgs").split(",") if a] if req.get("appArgs") else []
        self.fake.ring(
            channel,
            timeout_s=float(timeout) if timeout > 0 else None,
            caller=None,
            stasis_args=args,
        )
        return channel.to_json()

    async def originate(self, req: AriRequest) -> Result:
        """POST /channels."""
        return await self._originate(req, req.get("channelId") or None)

    async def originate_with_id(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}."""
        return await self._originate(req, req.path["channelId"])

    async def create_channel(self, req: AriRequest) -> Result:
        """POST /channels/create: created in Stasis, not yet ringing (then /dial)."""
        agent = self._endpoint(req.get("endpoint"))
        channel = self.fake.new_agent_channel(
            agent, req.get("app"), channel_id=req.get("channelId") or None
        )
        channel.variables.update(variables_of(req.variables))
        args = [a for a in req.get("appArgs").split(",") if a]
        self.fake.enter_stasis(channel, req.get("app"), args)
        return channel.to_json()

    async def dial(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/dial."""
        channel = self.fake.channel(req.path["channelId"])
        if channel.kind is not ChannelKind.AGENT or channel.state != "Down":
            raise FakeError(409, "Channel cannot be dialed.")
        caller = self.fake.channels.get(req.get("caller")) if req.get("caller") else None
        if caller is not None:
            channel.caller_name = caller.caller_name
            channel.caller_number = caller.caller_number
        timeout = req.number("timeout", 0)
        self.fake.ring(
            channel,
            timeout_s=float(timeout) if timeout > 0 else None,
            caller=caller,
            stasis_args=None,
        )
        return None

    async def hangup(self, req: AriRequest) -> Result:
        """DELETE /channels/{channelId}."""
        channel = self.fake.channel(req.path["channelId"])
        cause = 16
        if req.get("reason_code"):
            cause = req.number("reason_code")
        elif req.get("reason"):
            cause = HANGUP_REASONS[req.get("reason")]
        self.fake.hangup(channel, cause)
        return None

    async def continue_in_dialplan(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/continue: after the response, StasisEnd and on in the
        dialplan (``STASISSTATUS=SUCCESS``) at the next priority or the given place."""
        channel = self.fake.stasis_channel(req.path["channelId"])
        priority = req.number("priority") if req.get("priority") else None
        self.fake.continue_in_dialplan(
            channel, req.get("context"), req.get("extension"), priority, req.get("label")
        )
        return None

    async def answer(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/answer."""
        channel = self.fake.stasis_channel(req.path["channelId"])
        if channel.state not in ("Up", "Ring", "Ringing", "Down"):
            raise FakeError(412, "Channel in invalid state")
        self.fake.set_state(channel, "Up")
        return None

    async def ring(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/ring."""
        self.fake.stasis_channel(req.path["channelId"])
        return None

    async def ring_stop(self, req: AriRequest) -> Result:
        """DELETE /channels/{channelId}/ring."""
        self.fake.stasis_channel(req.path["channelId"])
        return None

    async def send_dtmf(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/dtmf: the far party receives the digits."""
        channel = self.fake.stasis_channel(req.path["channelId"])
        if not req.get("dtmf"):
            raise FakeError(400, "DTMF is required")
        if channel.state != "Up":
            raise FakeError(412, "Channel in invalid state")
        channel.dtmf_sent_to_party.extend(req.get("dtmf"))
        return None

    async def mute(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/mute."""
        self.fake.stasis_channel(req.path["channelId"]).muted = True
        return None

    async def unmute(self, req: AriRequest) -> Result:
        """DELETE /channels/{channelId}/mute."""
        self.fake.stasis_channel(req.path["channelId"]).muted = False
        return None

    async def hold(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/hold."""
        self.fake.stasis_channel(req.path["channelId"]).on_hold = True
        return None

    async def unhold(self, req: AriRequest) -> Result:
        """DELETE /channels/{channelId}/hold."""
        self.fake.stasis_channel(req.path["channelId"]).on_hold = False
        return None

    async def start_moh(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/moh."""
        self.fake.stasis_channel(req.path["channelId"]).moh = True
        return None

    async def stop_moh(self, req: AriRequest) -> Result:
        """DELETE /channels/{channelId}/moh."""
        self.fake.stasis_channel(req.path["channelId"]).moh = False
        return None

    async def start_silence(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/silence."""
        self.fake.stasis_channel(req.path["channelId"]).moh = False
        return None

    async def stop_silence(self, req: AriRequest) -> Result:
        """DELETE /channels/{channelId}/silence."""
        self.fake.stasis_channel(req.path["channelId"])
        return None

    async def _play(self, req: AriRequest, playback_id: str | None) -> Result:
        channel = self.fake.stasis_channel(req.path["channelId"])
        if channel.state != "Up" and channel.kind is not ChannelKind.CALLER:
            raise FakeError(412, "Channel in invalid state")
        playback = await self.fake.start_playback(
            channel,
            req.many("media"),
            req.get("lang") or channel.language,
            playback_id,
            channel.app,
        )
        return Created(playback.to_json())

    async def play(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/play."""
        return await self._play(req, req.get("playbackId") or None)

    async def play_with_id(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/play/{playbackId}."""
        return await self._play(req, req.path["playbackId"])

    async def record(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/record."""
        channel = self.fake.stasis_channel(req.path["channelId"])
        if channel.recording:
            raise FakeError(409, "Channel is currently recording")
        bridge = self.fake.bridges.get(channel.bridge_id or "")
        if bridge is not None and len(bridge.channels) > 1:
            raise FakeError(409, "Channel is currently bridged with other channels")
        return self._record(req, channel, channel.app)

    def _record(self, req: AriRequest, target: FakeChannel | FakeBridge, app: str | None) -> Result:
        """Start recording ``target`` as a record request asks; 201 with state ``queued``."""
        recording = self.fake.start_recording(
            target,
            req.get("name"),
            req.get("format"),
            max_duration_s=req.number("maxDurationSeconds"),
            max_silence_s=req.number("maxSilenceSeconds"),
            if_exists=req.get("ifExists", "fail"),
            beep=req.flag("beep"),
            terminate_on=req.get("terminateOn", "none"),
            app=app,
        )
        return Created({**recording.to_json(), "state": "queued"})

    async def get_variable(self, req: AriRequest) -> Result:
        """GET /channels/{channelId}/variable."""
        channel = self.fake.channels.get(req.path["channelId"])
        if channel is None:
            raise FakeError(404, "Channel or variable not found")
        name = req.get("variable")
        if name not in channel.variables:
            raise FakeError(404, "Provided variable was not found")
        return {"value": channel.variables[name]}

    async def set_variable(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/variable."""
        channel = self.fake.channel(req.path["channelId"])
        channel.variables[req.get("variable")] = req.get("value")
        self.fake.emit(
            channel.app,
            "ChannelVarset",
            variable=req.get("variable"),
            value=req.get("value"),
            channel=channel.to_json(),
        )
        return None

    async def _snoop(self, req: AriRequest, snoop_id: str | None) -> Result:
        target = self.fake.channel(req.path["channelId"])
        spy, whisper = req.get("spy", "none"), req.get("whisper", "none")
        if spy == "none" and whisper == "none":
            raise FakeError(400, "Invalid parameters: spy or whisper must be set")
        seq = self.fake.new_id()
        snoop = FakeChannel(
            id=snoop_id or seq,
            name=f"Snoop/{target.id}-{seq.split('.')[-1].zfill(8)}",
            kind=ChannelKind.SNOOP,
            state="Up",
            snoop_target=target.id,
            spy=spy,
            whisper=whisper,
            originated=True,
        )
        self.fake.add_channel(snoop)
        args = [a for a in req.get("appArgs").split(",") if a]
        self.fake.enter_stasis(snoop, req.get("app"), args)
        return snoop.to_json()

    async def snoop(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/snoop."""
        return await self._snoop(req, req.get("snoopId") or None)

    async def snoop_with_id(self, req: AriRequest) -> Result:
        """POST /channels/{channelId}/snoop/{snoopId}."""
        return await self._snoop(req, req.path["snoopId"])

    async def external_media(self, req: AriRequest) -> Result:
        """POST /channels/externalMedia: answers ``Down``; StasisStart follows the response."""
        return await self.fake.create_external_media(
            app=req.get("app"),
            fmt_name=req.get("format"),
            channel_id=req.get("channelId") or None,
            transport=req.get("transport", "udp"),
            encapsulation=req.get("encapsulation", "rtp"),
            connection_type=req.get("connection_type", "client"),
            external_host=req.get("external_host"),
            variables=variables_of(req.variables),
            data=req.get("data"),
        )
