"""The store as one object: open (migrate, recover), write calls and voicemails, read, close.

``Store(path)`` is the SQLite file of one box; ``Store(database)`` with a
:class:`~ari_app.store.pg_db.PostgresDatabase` (or ``Store.from_settings(store settings)``
with ``store.url``) is the PostgreSQL store a pool of workers shares. The API is the same.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from types import TracebackType

from ari_app.config.models import StoreSettings
from ari_app.store.calls import CallStore
from ari_app.store.db import Database
from ari_app.store.reader import StoreReader
from ari_app.store.target import as_database, database_for
from ari_app.store.voicemails import VoicemailStore
from ari_app.store.workers import Heartbeat
from ari_app.store.writer import StoreWriter

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """This process's name in a shared store: host name and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Store:
    """Opens the store with one writer task and one reader.

    ``async with Store(path) as store:`` migrates the schema, marks calls left open by a
    previous run as ``interrupted`` (SQLite only: in a shared store other workers' calls are
    live; a dead worker's calls are found through :mod:`ari_app.store.shared`), and closes
    cleanly (every queued write committed).
    """

    def __init__(
        self,
        target: Path | str | Database,
        *,
        busy_timeout_ms: int = 5000,
        worker_id: str | None = None,
        lease_s: float = 15.0,
        voicemail_lease_s: float = 300.0,
    ) -> None:
        self.db = as_database(target, busy_timeout_ms=busy_timeout_ms)
        self.path: Path | str = self.db.path or self.db.label
        """The SQLite file, or the PostgreSQL URL (without a password)."""
        self.writer = StoreWriter(self.db, busy_timeout_ms=busy_timeout_ms)
        self.calls = CallStore(self.writer)
        self.voicemails = VoicemailStore(self.writer)
        self.reader = StoreReader(self.db)
        self.worker_id = worker_id or default_worker_id()
        """This worker's name in a shared store (claims, live calls, seats)."""
        self.lease_s = lease_s
        """A worker whose heartbeat is older than this is taken for dead."""
        self.voicemail_lease_s = voicemail_lease_s
        """How long a voicemail job's claim holds without being renewed."""
        self.interrupted: list[str] = []
        """Ids of the calls marked interrupted when this store was opened."""
        self.heartbeat = Heartbeat(self.writer, self.worker_id, lease_s / 3)
        """This worker's heartbeat in a shared store (started by :meth:`open`)."""

    @classmethod
    def from_settings(cls, settings: StoreSettings, **kwargs: float | int) -> Store:
        """The store ``store:`` of app.yaml names (``url`` if set, else ``path``)."""
        return cls(
            database_for(settings),
            worker_id=settings.worker_id,
            lease_s=settings.lease_s,
            voicemail_lease_s=settings.voicemail_lease_s,
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def shared(self) -> bool:
        """True for a store a pool of workers shares (PostgreSQL)."""
        return self.db.shared

    async def open(self) -> None:
        """Open, migrate and recover."""
        await self.writer.start()
        try:
            if self.shared:
                await self.heartbeat.start()
            else:
                self.interrupted = await self.calls.mark_interrupted()
            await self.reader.run(self.reader.open)
        except BaseException:
            await self.close()
            raise
        log.info("call store open at %s", self.db.label)

    async def close(self) -> None:
        """Commit what is queued and close both connections."""
        await self.heartbeat.stop()
        try:
            await self.writer.close()
        finally:
            await self.reader.aclose()

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
