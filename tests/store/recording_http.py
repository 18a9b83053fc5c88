"""A RecordingSource over real HTTP, speaking exactly Asterisk's two stored-recording routes.

Used by the voicemail tests and their child process (independent of ``ari_app.ari``).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import aiohttp

from ari_app.voicemail import RecordingNotFound, VoicemailError


class HttpRecordingSource:
    """GET /recordings/stored/{recordingName}/file and DELETE /recordings/stored/{recordingName}."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._base = base_url.rstrip("/")

    async def _call(self, method: str, path: str) -> bytes:
        async with (
            aiohttp.ClientSession(headers=self._headers) as session,
            session.request(method, self._base + path) as resp,
        ):
            body = await resp.read()
            if resp.status == 404:
                raise RecordingNotFound(f"{method} {path}: 404")
            if resp.status >= 400:
                raise VoicemailError(f"{method} {path}: {resp.status} {body[:100]!r}")
            return body

    async def fetch(self, name: str) -> bytes:
        """The stored recording's file."""
        return await self._call("GET", f"/recordings/stored/{quote(name, safe='')}/file")

    async def delete(self, name: str) -> None:
        """Delete the stored recording."""
        await self._call("DELETE", f"/recordings/stored/{quote(name, safe='')}")
