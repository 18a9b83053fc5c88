"""The store as one object: open (migrate, recover), write calls and voicemails, read, close."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType

from ari_app.store.calls import CallStore
from ari_app.store.reader import StoreReader
from ari_app.store.voicemails import VoicemailStore
from ari_app.store.writer import StoreWriter

log = logging.getLogger(__name__)


class Store:
    """Opens the SQLite file with one writer task and one read-only reader.

    ``async with Store(path) as store:`` migrates the schema, marks calls left open by a
    previous run as ``interrupted``, and closes cleanly (every queued write committed).
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.writer = StoreWriter(self.path, busy_timeout_ms=busy_timeout_ms)
        self.calls = CallStore(self.writer)
        self.voicemails = VoicemailStore(self.writer)
        self.reader = StoreReader(self.path)
        self.interrupted: list[str] = []
        """Ids of the calls marked interrupted when this store was opened."""

    async def open(self) -> None:
        """Open, migrate and recover."""
        await self.writer.start()
        try:
            self.interrupted = await self.calls.mark_interrupted()
            await self.reader.run(self.reader.open)
        except BaseException:
            await self.close()
            raise
        log.info("call store open at %s", self.path)

    async def close(self) -> None:
        """Commit what is queued and close both connections."""
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
