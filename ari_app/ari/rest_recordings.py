"""Recording requests of the ARI REST client: stored recordings and live ones."""

from __future__ import annotations

from ari_app.ari.models import LiveRecording, StoredRecording
from ari_app.ari.rest_base import RestRequests


class RecordingRequests(RestRequests):
    """``/recordings`` requests (a mixin of :class:`~ari_app.ari.client.AriClient`)."""

    async def list_stored_recordings(self) -> list[StoredRecording]:
        """GET /recordings/stored."""
        data = await self._request("list_stored_recordings", "GET", "/recordings/stored")
        return [StoredRecording.from_json(r) for r in data or ()]

    async def get_stored_recording(self, name: str) -> StoredRecording:
        """GET /recordings/stored/{recordingName}."""
        data = await self._request(
            "get_stored_recording",
            "GET",
            "/recordings/stored/{recordingName}",
            {"recordingName": name},
        )
        return StoredRecording.from_json(data)

    async def get_stored_recording_file(self, name: str) -> bytes:
        """GET /recordings/stored/{recordingName}/file: the audio file's bytes."""
        data: bytes = await self._request(
            "get_stored_recording_file",
            "GET",
            "/recordings/stored/{recordingName}/file",
            {"recordingName": name},
            raw=True,
        )
        return data

    async def delete_stored_recording(self, name: str) -> None:
        """DELETE /recordings/stored/{recordingName}."""
        await self._request(
            "delete_stored_recording",
            "DELETE",
            "/recordings/stored/{recordingName}",
            {"recordingName": name},
        )

    async def get_live_recording(self, name: str) -> LiveRecording:
        """GET /recordings/live/{recordingName}."""
        data = await self._request(
            "get_live_recording",
            "GET",
            "/recordings/live/{recordingName}",
            {"recordingName": name},
        )
        return LiveRecording.from_json(data)

    async def stop_live_recording(self, name: str) -> None:
        """POST /recordings/live/{recordingName}/stop: stop and keep the file."""
        await self._request(
            "stop_live_recording",
            "POST",
            "/recordings/live/{recordingName}/stop",
            {"recordingName": name},
        )

    async def cancel_live_recording(self, name: str) -> None:
        """DELETE /recordings/live/{recordingName}: stop and discard the file."""
        await self._request(
            "cancel_live_recording",
            "DELETE",
            "/recordings/live/{recordingName}",
            {"recordingName": name},
        )
