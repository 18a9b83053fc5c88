"""Where recordings come from: Asterisk's stored recordings, behind small protocols."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from ari_app.voicemail.errors import RecordingNotFound, VoicemailError

if TYPE_CHECKING:
    from ari_app.ari.client import AriClient
    from ari_app.store import VoicemailRecord

log = logging.getLogger(__name__)
_SYSTEM_NAME = re.compile(r"^(?P<name>.+)-\d+\.\d+$")
"""A channel uniqueid of an Asterisk with a ``systemname``: ``ast2-1733100000.12``."""


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


def system_name(call_id: str | None) -> str | None:
    """The ``systemname`` of the Asterisk whose channel id is ``call_id`` (Asterisk prefixes
    every uniqueid with it: ``ast2-1733100000.12``), or None without one."""
    found = _SYSTEM_NAME.match(call_id or "")
    return found["name"] if found else None


class AsteriskRecordingSources:
    """Each voicemail's recording source: the Asterisk that recorded it.

    ``asterisks`` maps an Asterisk's ``asterisk_id`` or ``systemname`` (``ari.outbound.
    asterisks``) to its own HTTP ARI source; a job is looked up by the ``asterisk_id`` it
    was recorded with, then by the system name its call id begins with. A job of an
    Asterisk not in the mapping (or of none known) goes to ``default`` (``ari.url``); the
    first time an id is missing it is logged, so the mapping can be completed.
    """

    def __init__(
        self, default: RecordingSource, asterisks: Mapping[str, RecordingSource] | None = None
    ) -> None:
        self.default = default
        self.asterisks = dict(asterisks or {})
        self.missing: set[str] = set()
        """Asterisk ids that were not in the mapping (each logged once)."""

    def __call__(self, job: VoicemailRecord) -> RecordingSource:
        """Where ``job``'s recording is fetched from and deleted on."""
        if not job.asterisk_id:
            return self.default
        name = system_name(job.call_id)
        for key in (job.asterisk_id, name):
            if key and key in self.asterisks:
                return self.asterisks[key]
        if self.asterisks and job.asterisk_id not in self.missing:
            self.missing.add(job.asterisk_id)
            log.warning(
                "voicemail recorded on Asterisk %s (systemname %s) which ari.outbound.asterisks "
                "does not list: its recordings are fetched from ari.url",
                job.asterisk_id,
                name or "unknown",
            )
        return self.default


class AsteriskListers:
    """What several Asterisks hold (``ari.outbound.asterisks``, then ``ari.url``), for
    adopting recordings left without a job: each recording is checked on, and remembered
    as belonging to, the Asterisk that listed it (the first that did)."""

    def __init__(self, listers: Mapping[str | None, AriRecordingSource]) -> None:
        """``listers`` by mapping key (None: ``ari.url``), the ones to prefer first."""
        self.listers = dict(listers)
        self._where: dict[str, str | None] = {}

    async def stored_names(self) -> list[str]:
        """Names of every recording any of the Asterisks holds; one that cannot be listed
        is logged and skipped (an error only when none can be)."""
        where: dict[str, str | None] = {}
        error: VoicemailError | None = None
        listed = 0
        for key, lister in self.listers.items():
            try:
                names = await lister.stored_names()
            except VoicemailError as exc:
                log.warning("Asterisk %s: %s", key or "at ari.url", exc)
                error = exc
                continue
            listed += 1
            for name in names:
                where.setdefault(name, key)
        if error is not None and not listed:
            raise error
        self._where = where
        return list(where)

    async def is_live(self, name: str) -> bool:
        """True while the Asterisk that listed ``name`` is still recording it."""
        return await self.listers[self._where.get(name)].is_live(name)

    def asterisk_of(self, name: str) -> str | None:
        """The mapping key of the Asterisk that listed ``name`` (None: ``ari.url``)."""
        return self._where.get(name)
