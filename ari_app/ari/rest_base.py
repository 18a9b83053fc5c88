"""The request core of the ARI REST client: one request, by HTTP or another transport.

:meth:`RestRequests._request` sends every request with the spec's path template
(``/channels/{channelId}/play``), so each request is checked by the contract test and
recorded in ``request_log``. Every request has a timeout; HTTP errors become the typed
exceptions of :mod:`ari_app.ari.errors` (a 404 on a channel is :class:`ChannelGone`).
The resource mixins (``rest_channels``, ``rest_bridges``, ...) build on
:class:`RestRequests`; :class:`~ari_app.ari.client.AriClient` joins them and owns the
settings and the HTTP session.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import aiohttp

from ari_app.ari.errors import AriConnectionError, AriTimeout, http_error

log = logging.getLogger(__name__)

QueryValue = str | int | float | bool | Sequence[str] | None
"""A query string value (a sequence goes as a comma list, a bool as true/false)."""


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


def _encode(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    assert value is not None
    return ",".join(value)


class RestRequests:
    """Sends ARI REST requests; the base of the resource mixins of
    :class:`~ari_app.ari.client.AriClient`, which sets these attributes."""

    app: str
    """Our Stasis application (the default ``app`` of requests that take one)."""
    base_url: str
    timeout: float
    auth_headers: dict[str, str]
    transport: RestTransport | None
    request_log: deque[RequestRecord]
    keep_log: bool

    if TYPE_CHECKING:

        @property
        def session(self) -> aiohttp.ClientSession:
            """The HTTP session (see :attr:`AriClient.session`)."""

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
