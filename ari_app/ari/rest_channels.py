"""Channel requests of the ARI REST client: originate, answer, play, record, hang up, ..."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ari_app.ari.errors import ChannelGone
from ari_app.ari.models import Channel, LiveRecording, Playback
from ari_app.ari.rest_base import QueryValue, RestRequests


class ChannelRequests(RestRequests):
    """``/channels`` requests (a mixin of :class:`~ari_app.ari.client.AriClient`)."""

    async def list_channels(self) -> list[Channel]:
        """GET /channels: every live channel."""
        data = await self._request("list_channels", "GET", "/channels")
        return [Channel.from_json(c) for c in data or ()]

    async def get_channel(self, channel_id: str) -> Channel:
        """GET /channels/{channelId}."""
        data = await self._request(
            "get_channel", "GET", "/channels/{channelId}", {"channelId": channel_id}
        )
        return Channel.from_json(data)

    async def originate(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | None = None,
        extension: str | None = None,
        context: str | None = None,
        priority: int | None = None,
        label: str | None = None,
        caller_id: str | None = None,
        ring_timeout: int | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """POST /channels: dial ``endpoint`` (``PJSIP/201``) into an app or the dialplan.

        ``ring_timeout`` is ARI's ``timeout``: seconds to ring before giving up.
        """
        query: dict[str, QueryValue] = {
            "endpoint": endpoint,
            "app": app if app is not None or extension is not None else self.app,
            "appArgs": app_args,
            "extension": extension,
            "context": context,
            "priority": priority,
            "label": label,
            "callerId": caller_id,
            "timeout": ring_timeout,
            "channelId": channel_id,
            "otherChannelId": other_channel_id,
            "originator": originator,
            "formats": formats,
        }
        data = await self._request(
            "originate", "POST", "/channels", query=query, body={"variables": variables}
        )
        return Channel.from_json(data)

    async def create_channel(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """POST /channels/create: a channel in our app, not yet dialled (then :meth:`dial`)."""
        data = await self._request(
            "create_channel",
            "POST",
            "/channels/create",
            query={
                "endpoint": endpoint,
                "app": app or self.app,
                "appArgs": app_args,
                "channelId": channel_id,
                "otherChannelId": other_channel_id,
                "originator": originator,
                "formats": formats,
            },
            body={"variables": variables},
        )
        return Channel.from_json(data)

    async def dial(
        self, channel_id: str, *, caller: str | None = None, ring_timeout: int | None = None
    ) -> None:
        """POST /channels/{channelId}/dial: ring a created channel (``ring_timeout`` in s)."""
        await self._request(
            "dial",
            "POST",
            "/channels/{channelId}/dial",
            {"channelId": channel_id},
            {"caller": caller, "timeout": ring_timeout},
        )

    async def answer(self, channel_id: str) -> None:
        """POST /channels/{channelId}/answer."""
        await self._request(
            "answer", "POST", "/channels/{channelId}/answer", {"channelId": channel_id}
        )

    async def ring(self, channel_id: str) -> None:
        """POST /channels/{channelId}/ring: send ringing to the caller."""
        await self._request("ring", "POST", "/channels/{channelId}/ring", {"channelId": channel_id})

    async def ring_stop(self, channel_id: str) -> None:
        """DELETE /channels/{channelId}/ring."""
        await self._request(
            "ring_stop", "DELETE", "/channels/{channelId}/ring", {"channelId": channel_id}
        )

    async def hangup(
        self, channel_id: str, *, reason: str | None = None, reason_code: str | None = None
    ) -> None:
        """DELETE /channels/{channelId} (``reason`` e.g. ``normal``, ``busy``)."""
        await self._request(
            "hangup",
            "DELETE",
            "/channels/{channelId}",
            {"channelId": channel_id},
            {"reason": reason, "reason_code": reason_code},
        )

    async def continue_in_dialplan(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """POST /channels/{channelId}/continue: leave Stasis back to the dialplan."""
        await self._request(
            "continue_in_dialplan",
            "POST",
            "/channels/{channelId}/continue",
            {"channelId": channel_id},
            {"context": context, "extension": extension, "priority": priority, "label": label},
        )

    async def play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        *,
        lang: str | None = None,
        offsetms: int | None = None,
        skipms: int | None = None,
        playback_id: str | None = None,
    ) -> Playback:
        """POST /channels/{channelId}/play (``sound:``, ``recording:``, ``tone:`` URIs)."""
        data = await self._request(
            "play",
            "POST",
            "/channels/{channelId}/play",
            {"channelId": channel_id},
            {
                "media": [media] if isinstance(media, str) else media,
                "lang": lang,
                "offsetms": offsetms,
                "skipms": skipms,
                "playbackId": playback_id,
            },
        )
        return Playback.from_json(data)

    async def record(
        self,
        channel_id: str,
        name: str,
        format: str = "wav",
        *,
        max_duration_seconds: int | None = None,
        max_silence_seconds: int | None = None,
        if_exists: str | None = None,
        beep: bool | None = None,
        terminate_on: str | None = None,
    ) -> LiveRecording:
        """POST /channels/{channelId}/record (``terminate_on`` e.g. ``#``; seconds)."""
        data = await self._request(
            "record",
            "POST",
            "/channels/{channelId}/record",
            {"channelId": channel_id},
            {
                "name": name,
                "format": format,
                "maxDurationSeconds": max_duration_seconds,
                "maxSilenceSeconds": max_silence_seconds,
                "ifExists": if_exists,
                "beep": beep,
                "terminateOn": terminate_on,
            },
        )
        return LiveRecording.from_json(data)

    async def get_variable(self, channel_id: str, variable: str) -> str | None:
        """GET /channels/{channelId}/variable; None when the variable is not set.

        Asterisk answers 404 both for an unknown channel and for an unset variable; the
        message tells them apart ("Provided variable was not found"), and only the former
        raises :class:`ChannelGone`.
        """
        try:
            data = await self._request(
                "get_variable",
                "GET",
                "/channels/{channelId}/variable",
                {"channelId": channel_id},
                {"variable": variable},
            )
        except ChannelGone as exc:
            if "variable was not found" in exc.message.lower():
                return None
            raise
        return str((data or {}).get("value", ""))

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        """POST /channels/{channelId}/variable."""
        await self._request(
            "set_variable",
            "POST",
            "/channels/{channelId}/variable",
            {"channelId": channel_id},
            {"variable": variable, "value": value},
        )

    async def send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        before: int | None = None,
        between: int | None = None,
        duration: int | None = None,
        after: int | None = None,
    ) -> None:
        """POST /channels/{channelId}/dtmf (times in milliseconds)."""
        await self._request(
            "send_dtmf",
            "POST",
            "/channels/{channelId}/dtmf",
            {"channelId": channel_id},
            {
                "dtmf": dtmf,
                "before": before,
                "between": between,
                "duration": duration,
                "after": after,
            },
        )

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        """POST /channels/{channelId}/moh: music on hold."""
        await self._request(
            "start_moh",
            "POST",
            "/channels/{channelId}/moh",
            {"channelId": channel_id},
            {"mohClass": moh_class},
        )

    async def stop_moh(self, channel_id: str) -> None:
        """DELETE /channels/{channelId}/moh."""
        await self._request(
            "stop_moh", "DELETE", "/channels/{channelId}/moh", {"channelId": channel_id}
        )

    async def external_media(
        self,
        format: str,
        *,
        external_host: str | None = None,
        app: str | None = None,
        channel_id: str | None = None,
        encapsulation: str | None = None,
        transport: str | None = None,
        connection_type: str | None = None,
        direction: str | None = None,
        data: str | None = None,
        transport_data: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """POST /channels/externalMedia: an RTP (``external_host`` = our ``host:port``) or
        WebSocket (``transport="websocket"``, ``encapsulation="none"``) media channel.

        For RTP, Asterisk's own address is in the returned channel's ``channelvars``
        (UNICASTRTP_LOCAL_ADDRESS / UNICASTRTP_LOCAL_PORT), also readable with
        :meth:`get_variable`.
        """
        result = await self._request(
            "external_media",
            "POST",
            "/channels/externalMedia",
            query={
                "app": app or self.app,
                "format": format,
                "external_host": external_host,
                "channelId": channel_id,
                "encapsulation": encapsulation,
                "transport": transport,
                "connection_type": connection_type,
                "direction": direction,
                "data": data,
                "transport_data": transport_data,
            },
            body={"variables": variables},
        )
        return Channel.from_json(result)

    async def snoop(
        self,
        channel_id: str,
        *,
        app: str | None = None,
        spy: str | None = None,
        whisper: str | None = None,
        app_args: str | None = None,
        snoop_id: str | None = None,
    ) -> Channel:
        """POST /channels/{channelId}/snoop (``spy``/``whisper``: none, in, out, both)."""
        data = await self._request(
            "snoop",
            "POST",
            "/channels/{channelId}/snoop",
            {"channelId": channel_id},
            {
                "app": app or self.app,
                "spy": spy,
                "whisper": whisper,
                "appArgs": app_args,
                "snoopId": snoop_id,
            },
        )
        return Channel.from_json(data)

    async def channels_in_app(self) -> list[Channel]:
        """Live channels currently in our Stasis app (used after a reconnect)."""
        return [c for c in await self.list_channels() if c.in_stasis_app(self.app)]
