"""Bridge and playback requests of the ARI REST client."""

from __future__ import annotations

from collections.abc import Sequence

from ari_app.ari.models import Bridge, Playback
from ari_app.ari.rest_base import RestRequests


class BridgeRequests(RestRequests):
    """``/bridges`` and ``/playbacks`` requests (a mixin of
    :class:`~ari_app.ari.client.AriClient`)."""

    async def list_bridges(self) -> list[Bridge]:
        """GET /bridges."""
        data = await self._request("list_bridges", "GET", "/bridges")
        return [Bridge.from_json(b) for b in data or ()]

    async def create_bridge(
        self,
        bridge_type: str = "mixing",
        *,
        bridge_id: str | None = None,
        name: str | None = None,
    ) -> Bridge:
        """POST /bridges (``bridge_type`` is a comma list such as ``mixing``)."""
        data = await self._request(
            "create_bridge",
            "POST",
            "/bridges",
            query={"type": bridge_type, "bridgeId": bridge_id, "name": name},
        )
        return Bridge.from_json(data)

    async def get_bridge(self, bridge_id: str) -> Bridge:
        """GET /bridges/{bridgeId}."""
        data = await self._request(
            "get_bridge", "GET", "/bridges/{bridgeId}", {"bridgeId": bridge_id}
        )
        return Bridge.from_json(data)

    async def destroy_bridge(self, bridge_id: str) -> None:
        """DELETE /bridges/{bridgeId}."""
        await self._request(
            "destroy_bridge", "DELETE", "/bridges/{bridgeId}", {"bridgeId": bridge_id}
        )

    async def add_channel(
        self,
        bridge_id: str,
        channel: str | Sequence[str],
        *,
        role: str | None = None,
        absorb_dtmf: bool | None = None,
        mute: bool | None = None,
    ) -> None:
        """POST /bridges/{bridgeId}/addChannel."""
        await self._request(
            "add_channel",
            "POST",
            "/bridges/{bridgeId}/addChannel",
            {"bridgeId": bridge_id},
            {
                "channel": [channel] if isinstance(channel, str) else channel,
                "role": role,
                "absorbDTMF": absorb_dtmf,
                "mute": mute,
            },
        )

    async def remove_channel(self, bridge_id: str, channel: str | Sequence[str]) -> None:
        """POST /bridges/{bridgeId}/removeChannel."""
        await self._request(
            "remove_channel",
            "POST",
            "/bridges/{bridgeId}/removeChannel",
            {"bridgeId": bridge_id},
            {"channel": [channel] if isinstance(channel, str) else channel},
        )

    async def play_on_bridge(
        self,
        bridge_id: str,
        media: str | Sequence[str],
        *,
        lang: str | None = None,
        playback_id: str | None = None,
    ) -> Playback:
        """POST /bridges/{bridgeId}/play: play to every channel in the bridge."""
        data = await self._request(
            "play_on_bridge",
            "POST",
            "/bridges/{bridgeId}/play",
            {"bridgeId": bridge_id},
            {
                "media": [media] if isinstance(media, str) else media,
                "lang": lang,
                "playbackId": playback_id,
            },
        )
        return Playback.from_json(data)

    # --- playbacks -----------------------------------------------------------------

    async def get_playback(self, playback_id: str) -> Playback:
        """GET /playbacks/{playbackId}."""
        data = await self._request(
            "get_playback", "GET", "/playbacks/{playbackId}", {"playbackId": playback_id}
        )
        return Playback.from_json(data)

    async def stop_playback(self, playback_id: str) -> None:
        """DELETE /playbacks/{playbackId}: stop it now (barge-in)."""
        await self._request(
            "stop_playback", "DELETE", "/playbacks/{playbackId}", {"playbackId": playback_id}
        )
