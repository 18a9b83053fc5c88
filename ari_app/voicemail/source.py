"""Where recordings come from: Asterisk's stored recordings, behind small protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ari_app.voicemail.errors import RecordingNotFound, VoicemailError

if TYPE_CHECKING:
    from ari_app.ari.client import AriClient


class RecordingSource(Protocol):
    """Fetch and delete a stored recording by name."""

    async def fetch(self, name: str) -> bytes:
        """The recording's file bytes; raises RecordingNotFound if there is none."""

    async def delete(self, name: str) -> None:
        """Delete the stored recording; raises RecordingNotFound if there is none."""


class AriRecordingSource:
    """Stored recordings through the ARI client.

    ``GET /recordings/stored/{recordingName}/file`` and
    ``DELETE /recordings/stored/{recordingName}``.
    """

    def __init__(self, client: AriClient) -> None:
        self._client = client

    async def fetch(self, name: str) -> bytes:
        """The recording's file bytes."""
        from ari_app.ari.errors import AriError, NotFound  # noqa: PLC0415 - keeps ari optional

        try:
            return await self._client.get_stored_recording_file(name)
        except NotFound as exc:
            raise RecordingNotFound(f"Asterisk has no stored recording {name!r}") from exc
        except AriError as exc:
            raise VoicemailError(f"cannot fetch recording {name!r}: {exc}") from exc

    async def delete(self, name: str) -> None:
        """Delete Asterisk's copy."""
        from ari_app.ari.errors import AriError, NotFound  # noqa: PLC0415 - keeps ari optional

        try:
            await self._client.delete_stored_recording(name)
        except NotFound as exc:
            raise RecordingNotFound(f"Asterisk has no stored recording {name!r}") from exc
        except AriError as exc:
            raise VoicemailError(f"cannot delete recording {name!r}: {exc}") from exc

    async def stored_names(self) -> list[str]:
        """Names of every recording Asterisk holds (``GET /recordings/stored``)."""
        from ari_app.ari.errors import AriError  # noqa: PLC0415 - keeps ari optional

        try:
            return [r.name for r in await self._client.list_stored_recordings()]
        except AriError as exc:
            raise VoicemailError(f"cannot list Asterisk's recordings: {exc}") from exc

    async def is_live(self, name: str) -> bool:
        """True while Asterisk is still recording ``name`` (``GET /recordings/live/{name}``)."""
        from ari_app.ari.errors import AriError, NotFound  # noqa: PLC0415 - keeps ari optional

        try:
            await self._client.get_live_recording(name)
        except NotFound:
            return False
        except AriError as exc:
            raise VoicemailError(f"cannot check recording {name!r}: {exc}") from exc
        return True


class RecordingLister(Protocol):
    """What Asterisk still holds, for reconciling after a restart."""

    async def stored_names(self) -> list[str]:
        """Names of every stored recording."""

    async def is_live(self, name: str) -> bool:
        """True while the recording is still being made."""
