"""The one writer: a task that owns the SQLite connection; callers enqueue writes and await them.

Writes are functions of the connection. The task takes whatever is queued, runs it in
one transaction on its own thread (each write inside a savepoint, so one bad write
fails alone) and commits before any caller's await returns: once ``await write(...)``
returns, the row is on disk (WAL, ``synchronous=FULL``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ari_app.store.errors import StoreError
from ari_app.store.schema import migrate

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]
_Item = tuple[WriteFn, "asyncio.Future[Any]"]


def connect_writable(path: Path, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """Open (creating if needed) the store file for writing, in WAL mode, and migrate it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the call store {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot put the call store {path} in WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"cannot prepare the call store {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


class StoreWriter:
    """Owns the write connection and the task that applies queued writes in order."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        """How long one write waits for another process's lock before it fails (and the
        call recorder retries it)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Open and migrate the database, then start the writer task."""
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(
                self._executor, connect_writable, self.path, self.busy_timeout_ms
            )
        except BaseException:
            await asyncio.to_thread(self._executor.shutdown, True)
            raise
        self._task = asyncio.create_task(self._run(), name="store-writer")

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
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
        conn = self._conn
        assert conn is not None
        results: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn in fns:
                conn.execute("SAVEPOINT w")
                try:
                    value = fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO w")
                    conn.execute("RELEASE w")
                    error = (
                        exc
                        if not isinstance(exc, sqlite3.Error)
                        else StoreError(f"write to the call store failed: {exc}")
                    )
                    if error is not exc:
                        error.__cause__ = exc
                    results.append((False, error))
                else:
                    conn.execute("RELEASE w")
                    results.append((True, value))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = StoreError(f"commit to the call store {self.path} failed: {exc}")
            failure.__cause__ = exc
            return [(False, failure) for _ in fns]
        return results
