"""The one writer: a task that owns the store's write connection; callers enqueue writes.

Writes are functions of a :class:`~ari_app.store.db.Conn` (SQL with ``?`` placeholders, so
the same write runs on SQLite and PostgreSQL). The task takes whatever is queued, runs it
in one transaction on its own thread (each write inside a savepoint, so one bad write
fails alone) and commits before any caller's await returns: once ``await write(...)``
returns, the row is on disk (SQLite: WAL, ``synchronous=FULL``; PostgreSQL: committed).

When the PostgreSQL connection is lost (the server restarted), the writes of that batch
fail with a transient :class:`StoreError` (the call recorder retries them) and the next
batch reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ari_app.store.db import Conn, Database
from ari_app.store.errors import StoreError
from ari_app.store.target import as_database

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[Conn], Any]
_Item = tuple[WriteFn, "asyncio.Future[Any]"]


class StoreWriter:
    """Owns the write connection and the task that applies queued writes in order."""

    def __init__(self, target: Path | str | Database, *, busy_timeout_ms: int = 5000) -> None:
        self.db = as_database(target, busy_timeout_ms=busy_timeout_ms)
        self.path = self.db.label
        """How messages name the store (the file, or the URL)."""
        self.busy_timeout_ms = busy_timeout_ms
        """How long one SQLite write waits for another process's lock before it fails (and
        the call recorder retries it)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._conn: Conn | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Open and migrate the database, then start the writer task."""
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(self._executor, self._connect)
        except BaseException:
            await asyncio.to_thread(self._executor.shutdown, True)
            raise
        self._task = asyncio.create_task(self._run(), name="store-writer")

    def _connect(self) -> Conn:
        return self.db.connect(write=True)

    async def write(self, fn: Callable[[Conn], T]) -> T:
        """Queue ``fn(conn)`` and return its result once it is committed."""
        if self._task is None or self._closing or self._task.done():
            raise StoreError(f"the call store {self.path} is not open for writing")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fn, future))
        return await future

    async def close(self) -> None:
        """Finish every queued write, stop the task and close the connection."""
        if self._task is not None and not self._closing:
            self._closing = True
            self._queue.put_nowait(None)
            await self._task
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        batch: list[_Item] = []
        try:
            stop = False
            while not stop:
                item = await self._queue.get()
                if item is None:
                    break
                batch = [item]
                while not self._queue.empty():
                    more = self._queue.get_nowait()
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                results = await loop.run_in_executor(
                    self._executor, self._apply, [fn for fn, _ in batch]
                )
                for (_, future), (ok, value) in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
                batch = []
        except BaseException as exc:
            log.exception("the store writer stopped")
            self._fail_pending(batch, exc)
            raise
        finally:
            self._closing = True
            self._fail_pending([], StoreError("the call store is closed"))

    def _fail_pending(self, batch: list[_Item], exc: BaseException) -> None:
        pending = list(batch)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                pending.append(item)
        for _, future in pending:
            if not future.done():
                error = exc if isinstance(exc, Exception) else StoreError("store writer stopped")
                future.set_exception(error)

    def _apply(self, fns: list[WriteFn]) -> list[tuple[bool, Any]]:
        """Run the writes in one transaction, each in a savepoint (writer thread)."""
        errors = self.db.errors
        try:
            if self._conn is None or self._conn.broken:
                self._reconnect()
            conn = self._conn
            assert conn is not None
            results: list[tuple[bool, Any]] = []
            conn.begin()
            for fn in fns:
                conn.execute("SAVEPOINT w")
                try:
                    value = fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO SAVEPOINT w")
                    conn.execute("RELEASE SAVEPOINT w")
                    results.append((False, self._wrap(exc, "write to the call store failed")))
                else:
                    conn.execute("RELEASE SAVEPOINT w")
                    results.append((True, value))
            conn.commit()
        except StoreError as failure:
            return [(False, failure) for _ in fns]
        except errors as exc:
            self._after_failure()
            lost = self._wrap(exc, f"commit to the call store {self.path} failed")
            return [(False, lost) for _ in fns]
        return results

    def _wrap(self, exc: BaseException, what: str) -> BaseException:
        """A driver error as a :class:`StoreError` (transient if it may pass)."""
        if not isinstance(exc, self.db.errors) or not isinstance(exc, Exception):
            return exc
        error = StoreError(f"{what}: {exc}")
        error.transient = self.db.is_transient(exc)
        error.__cause__ = exc
        return error

    def _after_failure(self) -> None:
        conn = self._conn
        if conn is None:
            return
        conn.rollback_quietly()
        if conn.broken:
            log.warning("lost the connection to the call store %s; reconnecting", self.path)
            conn.close()
            self._conn = None

    def _reconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._conn = self.db.connect(write=True)
        log.info("reconnected to the call store %s", self.path)
