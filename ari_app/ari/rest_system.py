"""System requests of the ARI REST client: Asterisk info, applications, endpoints and
device states.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ari_app.ari.models import Application, DeviceState, Endpoint
from ari_app.ari.rest_base import RestRequests


class SystemRequests(RestRequests):
    """``/asterisk``, ``/applications``, ``/endpoints`` and ``/deviceStates`` requests
    (a mixin of :class:`~ari_app.ari.client.AriClient`)."""

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
