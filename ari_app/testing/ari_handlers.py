"""Handlers of the fake's ARI routes: one method per :data:`ari_app.testing.routes.ROUTES` entry.

Each handler gets an :class:`AriRequest` (validated parameters) and returns JSON (or
None for 204, or bytes for a file); it raises :class:`FakeError` with Asterisk's status
and message for the error cases Asterisk documents.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ari_app.testing.channel_handlers import ChannelHandlers
from ari_app.testing.model import ASTERISK_VERSION, FakeChannel, FakeError, Json, timestamp
from ari_app.testing.request import AriRequest, Created, Result

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk


class AriHandlers(ChannelHandlers):
    """The ARI behaviour of :class:`FakeAsterisk` (channel routes in :class:`ChannelHandlers`)."""

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
        self.fake.bridge_joined(bridge)
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
        return Created(playback.to_json())

    async def record_bridge(self, req: AriRequest) -> Result:
        """POST /bridges/{bridgeId}/record."""
        bridge = self.fake.bridge(req.path["bridgeId"])
        return self._record(req, bridge, bridge.app)

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


__all__ = ["AriHandlers", "AriRequest"]
