"""Handlers of the fake's ARI routes: one method per :data:`ari_app.testing.routes.ROUTES` entry.

Each handler gets an :class:`AriRequest` (validated parameters) and returns JSON (or
None for 204, or bytes for a file); it raises :class:`FakeError` with Asterisk's status
and message for the error cases Asterisk documents.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ari_app.media.codecs import FORMATS
from ari_app.testing.media import RtpLeg, WsMediaLeg
from ari_app.testing.model import (
    ASTERISK_VERSION,
    HANGUP_REASONS,
    ChannelKind,
    FakeChannel,
    FakeError,
    Json,
    timestamp,
)

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk


@dataclass(slots=True)
class AriRequest:
    """A validated ARI request: path parameters, query/body parameters, body variables."""

    path: dict[str, str]
    params: dict[str, str]
    variables: dict[str, Any]
    app: str | None = None

    def get(self, name: str, default: str = "") -> str:
        """A parameter's value (``default`` when absent)."""
        return self.params.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean parameter."""
        value = self.params.get(name)
        if value is None:
            return default
        return value.lower() in ("true", "1", "yes")

    def number(self, name: str, default: int = 0) -> int:
        """An integer parameter (400 when not a number)."""
        value = self.params.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise FakeError(400, f"{name} must be an integer") from None

    def many(self, name: str) -> list[str]:
        """A comma-separated list parameter."""
        return [v for v in self.params.get(name, "").split(",") if v]


Result = Json | list[Json] | bytes | None


class AriHandlers:
    """The ARI behaviour of :class:`FakeAsterisk`."""

    def __init__(self, fake: FakeAsterisk) -> None:
        self.fake = fake

    # --- asterisk / applications ----------------------------------------------------

    async def asterisk_info(self, req: AriRequest) -> Result:
        """GET /asterisk/info."""
        info: Json = {
            "build": {
                "os": "Linux",
                "kernel": "6.1.0",
                "machine": "x86_64",
                "options": "",
                "date": "2026-01-01",
                "user": "fake",
            },
            "system": {"version": ASTERISK_VERSION, "entity_id": self.fake.asterisk_id},
            "config": {
                "name": "fake-asterisk",
                "default_language": "en",
                "setid": {"user": "asterisk", "group": "asterisk"},
            },
            "status": {
                "startup_time": "2026-01-01T00:00:00.000+0000",
                "last_reload_time": "2026-01-01T00:00:00.000+0000",
            },
        }
        only = req.many("only")
        return {k: v for k, v in info.items() if not only or k in only}

    async def ping(self, req: AriRequest) -> Result:
        """GET /asterisk/ping."""
        return {"asterisk_id": self.fake.asterisk_id, "ping": "pong", "timestamp": timestamp()}

    def _app_json(self, name: str) -> Json:
        state = self.fake.apps.get(name)
        if state is None:
            raise FakeError(404, "Application does not exist.")
        channels = [c.id for c in self.fake.channels.values() if c.app == name]
        bridges = [b.id for b in self.fake.bridges.values() if b.app == name]
        subs = sorted(state.subscriptions)
        return {
            "name": name,
            "channel_ids": channels,
            "bridge_ids": bridges,
            "endpoint_ids": [s.split(":", 1)[1] for s in subs if s.startswith("endpoint:")],
            "device_names": [s.split(":", 1)[1] for s in subs if s.startswith("deviceState:")],
            "events_allowed": [],
            "events_disallowed": [],
        }

    async def list_applications(self, req: AriRequest) -> Result:
        """GET /applications."""
        return [self._app_json(name) for name in self.fake.apps]

    async def get_application(self, req: AriRequest) -> Result:
        """GET /applications/{applicationName}."""
        return self._app_json(req.path["applicationName"])

    def _check_sources(self, sources: list[str]) -> None:
        for source in sources:
            scheme, _, name = source.partition(":")
            if scheme not in ("channel", "bridge", "endpoint", "deviceState") or not name:
                raise FakeError(400, "Invalid event source URI scheme")
            if scheme == "channel":
                exists = name in self.fake.channels
            elif scheme == "bridge":
                exists = name in self.fake.bridges
            elif scheme == "endpoint":
                exists = name in self.fake.endpoints or "/" not in name
            else:
                exists = True
            if not exists:
                raise FakeError(422, "Event source does not exist.")

    async def subscribe(self, req: AriRequest) -> Result:
        """POST /applications/{applicationName}/subscription."""
        name = req.path["applicationName"]
        self._app_json(name)
        sources = req.many("eventSource")
        self._check_sources(sources)
        self.fake.apps[name].subscriptions.update(sources)
        return self._app_json(name)

    async def unsubscribe(self, req: AriRequest) -> Result:
        """DELETE /applications/{applicationName}/subscription."""
        name = req.path["applicationName"]
        self._app_json(name)
        sources = req.many("eventSource")
        self._check_sources(sources)
        state = self.fake.apps[name]
        if not set(sources) <= state.subscriptions:
            raise FakeError(409, "Application not subscribed to event source.")
        state.subscriptions.difference_update(sources)
        return self._app_json(name)

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
            raise FakeError(
                400, "the fake Asterisk runs no dialplan: originate needs 'app' (Stasis)"
            )
        agent = self._endpoint(req.get("endpoint"))
        channel = self.fake.new_agent_channel(
            agent, app, channel_id=channel_id, caller_id=req.get("callerId")
        )
        channel.variables.update(_variables(req.variables))
        self.fake.emit(app, "ChannelCreated", channel=channel.to_json())
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
        channel.variables.update(_variables(req.variables))
        args = [a for a in req.get("appArgs").split(",") if a]
        self.fake.emit(channel.app, "ChannelCreated", channel=channel.to_json())
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
        """POST /channels/{channelId}/continue: leaves Stasis; the fake's dialplan hangs up."""
        channel = self.fake.stasis_channel(req.path["channelId"])
        channel.in_stasis = False
        self.fake.emit(channel.app, "StasisEnd", channel=channel.to_json())
        channel.context = req.get("context") or channel.context
        channel.exten = req.get("extension") or channel.exten
        self.fake.spawn(_later_hangup(self.fake, channel), f"dialplan-{channel.id}")
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
        return playback.to_json()

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
        recording = self.fake.start_recording(
            channel,
            req.get("name"),
            req.get("format"),
            max_duration_s=req.number("maxDurationSeconds"),
            max_silence_s=req.number("maxSilenceSeconds"),
            if_exists=req.get("ifExists", "fail"),
            beep=req.flag("beep"),
            terminate_on=req.get("terminateOn", "none"),
            app=channel.app,
        )
        return recording.to_json()

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
        """POST /channels/externalMedia: an RTP (UnicastRTP) or chan_websocket channel."""
        fmt_name = req.get("format")
        if fmt_name not in FORMATS:
            raise FakeError(400, f"Unsupported format {fmt_name!r}")
        fmt = FORMATS[fmt_name]
        transport = req.get("transport", "udp")
        encapsulation = req.get("encapsulation", "rtp")
        connection_type = req.get("connection_type", "client")
        app = req.get("app")
        channel_id = req.get("channelId") or self.fake.new_id()
        if transport == "websocket":
            if encapsulation != "none":
                raise FakeError(400, "encapsulation must be 'none' for the websocket transport")
            if connection_type != "server":
                raise FakeError(400, "the fake Asterisk has no websocket_client.conf connections")
            connection_id = str(uuid.uuid4())
            channel = FakeChannel(
                id=channel_id,
                name=f"WebSocket/INCOMING-{channel_id}",
                kind=ChannelKind.WEBSOCKET,
                state="Down",
                channelvars=("MEDIA_WEBSOCKET_CONNECTION_ID", "MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE"),
            )
            leg = WsMediaLeg(channel, fmt, connection_id)
            channel.variables["MEDIA_WEBSOCKET_CONNECTION_ID"] = connection_id
            channel.variables["MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE"] = str(leg.optimal_frame_size)
            channel.deliver = leg.deliver
            channel.closers.append(leg.close)
            channel.closers.append(lambda: self.fake.ws_media.pop(connection_id, None))
            self.fake.ws_media[connection_id] = leg
        else:
            if encapsulation != "rtp" or transport != "udp":
                raise FakeError(400, "the fake Asterisk supports rtp over udp and websocket")
            if connection_type != "client":
                raise FakeError(400, "connection_type 'server' is only valid for websocket")
            host, sep, port = req.get("external_host").rpartition(":")
            if not sep or not host or not port.isdigit():
                raise FakeError(400, "external_host must be host:port for RTP")
            channel = FakeChannel(
                id=channel_id,
                name=f"UnicastRTP/{host}:{port}-0x{abs(hash(channel_id)) & 0xFFFFFFFF:x}",
                kind=ChannelKind.UNICAST_RTP,
                state="Up",
                channelvars=("UNICASTRTP_LOCAL_ADDRESS", "UNICASTRTP_LOCAL_PORT"),
            )
            rtp = RtpLeg(channel, fmt, (host, int(port)))
            local_host, local_port = await rtp.open(self.fake.media_host)
            channel.variables["UNICASTRTP_LOCAL_ADDRESS"] = local_host
            channel.variables["UNICASTRTP_LOCAL_PORT"] = str(local_port)
            channel.deliver = rtp.deliver
            channel.closers.append(rtp.close)
            self.fake.rtp_legs[channel_id] = rtp
        channel.variables.update(_variables(req.variables))
        if req.get("data"):
            channel.variables["EXTERNAL_MEDIA_DATA"] = req.get("data")
        self.fake.add_channel(channel)
        self.fake.enter_stasis(channel, app, [])
        return channel.to_json()

    # --- bridges ----------------------------------------------------------------------

    async def list_bridges(self, req: AriRequest) -> Result:
        """GET /bridges."""
        return [b.to_json() for b in self.fake.bridges.values()]

    async def create_bridge(self, req: AriRequest) -> Result:
        """POST /bridges."""
        bridge = self.fake.create_bridge(
            req.get("type", "mixing"),
            req.get("bridgeId") or None,
            req.get("name"),
            req.app or "",
        )
        return bridge.to_json()

    async def create_bridge_with_id(self, req: AriRequest) -> Result:
        """POST /bridges/{bridgeId}."""
        bridge_id = req.path["bridgeId"]
        if bridge_id in self.fake.bridges:
            return self.fake.bridges[bridge_id].to_json()
        bridge = self.fake.create_bridge(
            req.get("type", "mixing"), bridge_id, req.get("name"), req.app or ""
        )
        return bridge.to_json()

    async def get_bridge(self, req: AriRequest) -> Result:
        """GET /bridges/{bridgeId}."""
        return self.fake.bridge(req.path["bridgeId"]).to_json()

    async def destroy_bridge(self, req: AriRequest) -> Result:
        """DELETE /bridges/{bridgeId}."""
        self.fake.destroy_bridge(self.fake.bridge(req.path["bridgeId"]))
        return None

    def _bridge_channels(self, req: AriRequest) -> list[FakeChannel]:
        out = []
        for channel_id in req.many("channel"):
            channel = self.fake.channels.get(channel_id)
            if channel is None or channel.destroyed:
                raise FakeError(400, "Channel not found")
            out.append(channel)
        return out

    async def add_channel(self, req: AriRequest) -> Result:
        """POST /bridges/{bridgeId}/addChannel."""
        bridge = self.fake.bridge(req.path["bridgeId"])
        channels = self._bridge_channels(req)
        for channel in channels:
            if not channel.in_stasis:
                raise FakeError(422, "Channel not in Stasis application")
            if channel.recording:
                raise FakeError(409, "Channel currently recording")
        for channel in channels:
            channel.muted = req.flag("mute")
            self.fake.bridge_add(bridge, channel)
        return None

    async def remove_channel(self, req: AriRequest) -> Result:
        """POST /bridges/{bridgeId}/removeChannel."""
        bridge = self.fake.bridge(req.path["bridgeId"])
        channels = self._bridge_channels(req)
        for channel in channels:
            if channel.id not in bridge.channels:
                raise FakeError(422, "Channel not in this bridge")
        for channel in channels:
            self.fake.bridge_remove(bridge, channel)
        return None

    async def play_on_bridge(self, req: AriRequest) -> Result:
        """POST /bridges/{bridgeId}/play."""
        bridge = self.fake.bridge(req.path["bridgeId"])
        playback = await self.fake.start_playback(
            bridge,
            req.many("media"),
            req.get("lang") or "en",
            req.get("playbackId") or None,
            bridge.app,
        )
        return playback.to_json()

    async def record_bridge(self, req: AriRequest) -> Result:
        """POST /bridges/{bridgeId}/record."""
        bridge = self.fake.bridge(req.path["bridgeId"])
        recording = self.fake.start_recording(
            bridge,
            req.get("name"),
            req.get("format"),
            max_duration_s=req.number("maxDurationSeconds"),
            max_silence_s=req.number("maxSilenceSeconds"),
            if_exists=req.get("ifExists", "fail"),
            beep=req.flag("beep"),
            terminate_on=req.get("terminateOn", "none"),
            app=bridge.app,
        )
        return recording.to_json()

    # --- endpoints and device states ---------------------------------------------------

    async def list_device_states(self, req: AriRequest) -> Result:
        """GET /deviceStates."""
        return [{"name": e.name, "state": e.device_state} for e in self.fake.endpoints.values()]

    async def get_device_state(self, req: AriRequest) -> Result:
        """GET /deviceStates/{deviceName}."""
        name = req.path["deviceName"]
        endpoint = self.fake.endpoints.get(name)
        return {"name": name, "state": endpoint.device_state if endpoint else "INVALID"}

    async def list_endpoints(self, req: AriRequest) -> Result:
        """GET /endpoints."""
        return [e.to_json() for e in (self.fake.trunk, *self.fake.endpoints.values())]

    async def list_endpoints_by_tech(self, req: AriRequest) -> Result:
        """GET /endpoints/{tech}."""
        tech = req.path["tech"]
        found = [
            e.to_json()
            for e in (self.fake.trunk, *self.fake.endpoints.values())
            if e.technology == tech
        ]
        if not found:
            raise FakeError(404, "Endpoints not found")
        return found

    async def get_endpoint(self, req: AriRequest) -> Result:
        """GET /endpoints/{tech}/{resource}."""
        name = f"{req.path['tech']}/{req.path['resource']}"
        endpoint = self.fake.endpoints.get(name)
        if name == self.fake.trunk.name:
            endpoint = self.fake.trunk
        if endpoint is None:
            raise FakeError(404, "Endpoints not found")
        return endpoint.to_json()

    # --- playbacks --------------------------------------------------------------------

    def _playback(self, req: AriRequest) -> Any:
        playback = self.fake.playbacks.get(req.path["playbackId"])
        if playback is None:
            raise FakeError(404, "The playback cannot be found")
        return playback

    async def get_playback(self, req: AriRequest) -> Result:
        """GET /playbacks/{playbackId}."""
        return self._playback(req).to_json()  # type: ignore[no-any-return]

    async def stop_playback(self, req: AriRequest) -> Result:
        """DELETE /playbacks/{playbackId}: stops at once (PlaybackFinished)."""
        self.fake.finish_playback(self._playback(req), "done")
        return None

    async def control_playback(self, req: AriRequest) -> Result:
        """POST /playbacks/{playbackId}/control."""
        playback = self._playback(req)
        operation = req.get("operation")
        if operation == "restart":
            playback.position = 0
        elif operation == "pause":
            playback.state = "paused"
        elif operation == "unpause":
            playback.state = "playing"
        elif operation == "forward":
            playback.position += 3 * 16000 * 2
        elif operation == "reverse":
            playback.position = max(0, playback.position - 3 * 16000 * 2)
        return None

    # --- recordings -------------------------------------------------------------------

    async def list_stored_recordings(self, req: AriRequest) -> Result:
        """GET /recordings/stored."""
        stored = await asyncio.to_thread(self.fake.stored_recordings)
        return [{"name": name, "format": fmt} for name, fmt, _ in stored]

    async def get_stored_recording(self, req: AriRequest) -> Result:
        """GET /recordings/stored/{recordingName}."""
        name = req.path["recordingName"]
        fmt, _ = self.fake.find_stored(name)
        return {"name": name, "format": fmt}

    async def delete_stored_recording(self, req: AriRequest) -> Result:
        """DELETE /recordings/stored/{recordingName}."""
        _, path = self.fake.find_stored(req.path["recordingName"])
        await asyncio.to_thread(path.unlink)
        return None

    async def get_stored_recording_file(self, req: AriRequest) -> Result:
        """GET /recordings/stored/{recordingName}/file: the WAV bytes."""
        _, path = self.fake.find_stored(req.path["recordingName"])
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError:
            raise FakeError(403, "The recording file could not be opened") from None

    async def copy_stored_recording(self, req: AriRequest) -> Result:
        """POST /recordings/stored/{recordingName}/copy."""
        fmt, path = self.fake.find_stored(req.path["recordingName"])
        dest_name = req.get("destinationRecordingName")
        dest = self.fake.recording_path(dest_name, fmt)
        if dest.exists():
            raise FakeError(409, "A recording with the same name already exists on the system")
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(dest.write_bytes, await asyncio.to_thread(path.read_bytes))
        return {"name": dest_name, "format": fmt}

    def _live(self, req: AriRequest) -> Any:
        recording = self.fake.recordings.get(req.path["recordingName"])
        if recording is None:
            raise FakeError(404, "Recording not found")
        return recording

    async def get_live_recording(self, req: AriRequest) -> Result:
        """GET /recordings/live/{recordingName}."""
        return self._live(req).to_json()  # type: ignore[no-any-return]

    async def cancel_live_recording(self, req: AriRequest) -> Result:
        """DELETE /recordings/live/{recordingName}: stop and discard."""
        self.fake.finish_recording(self._live(req), "canceled")
        return None

    async def stop_live_recording(self, req: AriRequest) -> Result:
        """POST /recordings/live/{recordingName}/stop: stop and store."""
        self.fake.finish_recording(self._live(req), "done")
        return None


def _variables(body: dict[str, Any]) -> dict[str, str]:
    raw = body.get("variables") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, value in raw.items():
        out[str(key)] = str(value.get("value", "")) if isinstance(value, dict) else str(value)
    return out


async def _later_hangup(fake: FakeAsterisk, channel: FakeChannel) -> None:
    """The fake has no dialplan: a channel sent back to it hangs up on the next turn."""
    await asyncio.sleep(0)
    fake.hangup(channel, 16)
