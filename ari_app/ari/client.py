"""A small typed async ARI REST client on aiohttp.

Every request goes through :meth:`AriClient._request` with the spec's path template
(``/channels/{channelId}/play``), so each request is checked by the contract test and
recorded in ``request_log``. Every request has a timeout; HTTP errors become the typed
exceptions of :mod:`ari_app.ari.errors` (a 404 on a channel is :class:`ChannelGone`).
"""

from __future__ import annotations

import base64
import json
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from ari_app.ari.errors import AriConnectionError, AriTimeout, ChannelGone, http_error
from ari_app.ari.models import (
    Application,
    Bridge,
    Channel,
    DeviceState,
    Endpoint,
    LiveRecording,
    Playback,
    StoredRecording,
)

log = logging.getLogger(__name__)

QueryValue = str | int | float | bool | Sequence[str] | None
REQUEST_LOG_SIZE = 1000


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the client made: the spec's template and the parameter names used."""

    operation: str
    method: str
    template: str
    query: frozenset[str]
    body: frozenset[str]


class RestTransport(Protocol):
    """Carries one REST request another way than HTTP (e.g. ARI over an outbound WebSocket).

    ``path`` is the URL-quoted path relative to ``/ari`` (``/channels/1.2/answer``);
    ``wait_s`` is the timeout in seconds. Returns the response body (``b""`` when none)
    or raises :mod:`ari_app.ari.errors`' typed errors.
    """

    async def send(  # noqa: PLR0917
        self,
        method: str,
        path: str,
        template: str,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None,
        wait_s: float,
    ) -> bytes: ...


def basic_auth_header(username: str, password: str) -> str:
    """The value of an HTTP basic ``Authorization`` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _encode(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    assert value is not None
    return ",".join(value)


class AriClient:
    """REST client for one Asterisk: ``base_url`` like ``http://127.0.0.1:8088/ari``."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        app: str,
        *,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        transport: RestTransport | None = None,
    ) -> None:
        self.transport = transport
        """When set, requests go through it instead of HTTP (outbound WebSocket mode)."""
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.timeout = timeout
        self.auth_headers = {"Authorization": basic_auth_header(username, password)}
        self._session = session
        self._own_session = session is None
        self.request_log: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)
        """The latest requests made (operation, template, parameter names)."""
        self.keep_log = True

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (created on first use)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    @property
    def events_url(self) -> str:
        """The events WebSocket URL (ws:// or wss://) for this client's app."""
        base = self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/events"

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._own_session and self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _request(  # noqa: PLR0917
        self,
        operation: str,
        method: str,
        template: str,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
        *,
        raw: bool = False,
    ) -> Any:
        """Send one request; returns parsed JSON (or bytes when ``raw``)."""
        params = {k: _encode(v) for k, v in (query or {}).items() if v is not None}
        json_body = {k: v for k, v in (body or {}).items() if v is not None} or None
        if self.keep_log:
            self.request_log.append(
                RequestRecord(
                    operation,
                    method,
                    template,
                    frozenset(params),
                    frozenset(json_body or ()),
                )
            )
        url_path = template.format(**{k: quote(v, safe="") for k, v in (path or {}).items()})
        if self.transport is not None:
            data = await self.transport.send(
                method, url_path, template, params, json_body, self.timeout
            )
            return data if raw else (_json(data) if data else None)
        url = self.base_url + url_path
        try:
            async with self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=self.auth_headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                data = await resp.read()
                if resp.status >= 400:
                    message = _error_message(data) or resp.reason or ""
                    raise http_error(resp.status, method, url_path, template, message)
        except TimeoutError:
            raise AriTimeout(f"{method} {url_path}: no answer within {self.timeout} s") from None
        except aiohttp.ClientError as exc:
            raise AriConnectionError(f"{method} {url_path}: {exc}") from exc
        if raw:
            return data
        if not data:
            return None
        return _json(data)

    # --- asterisk and applications -------------------------------------------------

    async def asterisk_info(self, only: Sequence[str] | None = None) -> dict[str, Any]:
        """GET /asterisk/info: version, build, status."""
        result: dict[str, Any] = await self._request(
            "asterisk_info", "GET", "/asterisk/info", query={"only": only}
        )
        return result

    async def ping(self) -> dict[str, Any]:
        """GET /asterisk/ping."""
        result: dict[str, Any] = await self._request("ping", "GET", "/asterisk/ping")
        return result

    async def get_application(self, name: str | None = None) -> Application:
        """GET /applications/{applicationName} (default: our app)."""
        data = await self._request(
            "get_application",
            "GET",
            "/applications/{applicationName}",
            {"applicationName": name or self.app},
        )
        return Application.from_json(data)

    async def subscribe(self, event_source: Sequence[str], app: str | None = None) -> Application:
        """POST /applications/{app}/subscription, e.g. ``["deviceState:PJSIP/201"]``."""
        data = await self._request(
            "subscribe",
            "POST",
            "/applications/{applicationName}/subscription",
            {"applicationName": app or self.app},
            {"eventSource": event_source},
        )
        return Application.from_json(data)

    async def unsubscribe(self, event_source: Sequence[str], app: str | None = None) -> Application:
        """DELETE /applications/{app}/subscription."""
        data = await self._request(
            "unsubscribe",
            "DELETE",
            "/applications/{applicationName}/subscription",
            {"applicationName": app or self.app},
            {"eventSource": event_source},
        )
        return Application.from_json(data)

    # --- channels ------------------------------------------------------------------

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

    # --- bridges -------------------------------------------------------------------

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

    # --- recordings ----------------------------------------------------------------

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

    # --- endpoints and device states -------------------------------------------------

    async def list_endpoints(self, tech: str | None = None) -> list[Endpoint]:
        """GET /endpoints (or /endpoints/{tech})."""
        if tech is None:
            data = await self._request("list_endpoints", "GET", "/endpoints")
        else:
            data = await self._request("list_endpoints", "GET", "/endpoints/{tech}", {"tech": tech})
        return [Endpoint.from_json(e) for e in data or ()]

    async def get_endpoint(self, tech: str, resource: str) -> Endpoint:
        """GET /endpoints/{tech}/{resource}."""
        data = await self._request(
            "get_endpoint",
            "GET",
            "/endpoints/{tech}/{resource}",
            {"tech": tech, "resource": resource},
        )
        return Endpoint.from_json(data)

    async def list_device_states(self) -> list[DeviceState]:
        """GET /deviceStates."""
        data = await self._request("list_device_states", "GET", "/deviceStates")
        return [DeviceState.from_json(d) for d in data or ()]

    async def get_device_state(self, device_name: str) -> DeviceState:
        """GET /deviceStates/{deviceName} (e.g. ``PJSIP/201``)."""
        data = await self._request(
            "get_device_state",
            "GET",
            "/deviceStates/{deviceName}",
            {"deviceName": device_name},
        )
        return DeviceState.from_json(data)

    # --- helpers -------------------------------------------------------------------

    async def channels_in_app(self) -> list[Channel]:
        """Live channels currently in our Stasis app (used after a reconnect)."""
        return [c for c in await self.list_channels() if c.in_stasis_app(self.app)]


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        log.debug("non-JSON ARI response of %d bytes", len(data))
        return None


def _error_message(data: bytes) -> str:
    parsed = _json(data)
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return str(parsed["message"])
    return ""
