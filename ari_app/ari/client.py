"""A small typed async ARI REST client on aiohttp: :class:`AriClient`, its settings and session.

One method per ARI request, from the resource mixins (``rest_channels``, ``rest_bridges``,
``rest_recordings``, ``rest_system``); every request goes through the core of
:mod:`ari_app.ari.rest_base` (spec path templates, ``request_log``, timeouts, typed errors).
"""

from __future__ import annotations

import base64
from collections import deque

import aiohttp

from ari_app.ari.rest_base import RequestRecord, RestTransport
from ari_app.ari.rest_bridges import BridgeRequests
from ari_app.ari.rest_channels import ChannelRequests
from ari_app.ari.rest_recordings import RecordingRequests
from ari_app.ari.rest_system import SystemRequests

REQUEST_LOG_SIZE = 1000


def basic_auth_header(username: str, password: str) -> str:
    """The value of an HTTP basic ``Authorization`` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class AriClient(ChannelRequests, BridgeRequests, RecordingRequests, SystemRequests):
    """REST client for one Asterisk: ``base_url`` like ``http://127.0.0.1:8088/ari``.

    The requests, one method each, come from the mixins: channels
    (:mod:`~ari_app.ari.rest_channels`), bridges and playbacks
    (:mod:`~ari_app.ari.rest_bridges`), recordings (:mod:`~ari_app.ari.rest_recordings`),
    Asterisk, applications, endpoints and device states (:mod:`~ari_app.ari.rest_system`).
    """

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
