"""Workers of a shared store: each one's row in ``workers`` and the heartbeat that renews it.

A worker is alive while its heartbeat is younger than the store's ``lease_s``; the
:class:`Heartbeat` task renews it every third of that. Seats, busy agents and live calls
of a worker whose heartbeat has stopped no longer count (see :mod:`ari_app.shared`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from ari_app.store.db import Conn
from ari_app.store.writer import StoreWriter

log = logging.getLogger(__name__)


def beat(conn: Conn, worker_id: str, now: float) -> None:
    """Register ``worker_id`` or renew its heartbeat."""
    conn.execute(
        "INSERT INTO workers (id, started_at, heartbeat_at) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        (worker_id, now, now),
    )


class Heartbeat:
    """Renews one worker's heartbeat every ``every_s`` until stopped."""

    def __init__(self, writer: StoreWriter, worker_id: str, every_s: float) -> None:
        self.writer = writer
        self.worker_id = worker_id
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def start(self) -> None:
        """Register the worker now, then keep beating in the background."""
        await self.beat()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="worker-heartbeat")

    async def beat(self) -> None:
        """One heartbeat."""
        now = time.time()
        await self.writer.write(lambda conn: beat(conn, self.worker_id, now))

    async def stop(self) -> None:
        """Stop beating (the lease then runs out by itself)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.beat()
            except Exception as exc:
                if not self._failing:
                    log.warning("worker %s: heartbeat not written (%s)", self.worker_id, exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("worker %s: heartbeat written again", self.worker_id)
                self._failing = False
