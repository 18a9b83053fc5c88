"""The read side: a separate connection (read-only on SQLite) used from its own thread.

Sync methods for the CLI; ``await reader.run(reader.list_calls, ...)`` from async code
(the dashboard), which runs the query on the reader's thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ari_app.store.db import Conn, Database
from ari_app.store.errors import StoreError
from ari_app.store.models import CallRecord, Event, Turn, VoicemailRecord
from ari_app.store.target import as_database
from ari_app.store.voicemails import VOICEMAIL_COLUMNS, voicemail_from_row

T = TypeVar("T")

CALL_COLUMNS = (
    "id, line, caller, did, started_at, ended_at, outcome, handoff_reason, agent, updated_at"
)


def _call(row: tuple[Any, ...]) -> CallRecord:
    return CallRecord(*row)


class StoreReader:
    """Queries over a connection of its own to the store (a SQLite file, read-only, or
    PostgreSQL, where a lost connection is opened again and the query retried once)."""

    def __init__(self, target: Path | str | Database) -> None:
        self.db = as_database(target)
        self.path = self.db.label
        """How messages name the store (the file, or the URL)."""
        self._conn: Conn | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (opens the connection if needed)."""
        return self._open_conn().dialect

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of ``key`` of the JSON object in ``column`` (per dialect)."""
        return self._open_conn().json_text(column, key)

    def open(self) -> None:
        """Open the store; it must exist and have the current schema."""
        if self._conn is None:
            self._conn = self.db.connect(write=False)

    def _open_conn(self) -> Conn:
        self.open()
        assert self._conn is not None
        return self._conn

    def close(self) -> None:
        """Close the connection and the reader thread."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def aclose(self) -> None:
        """Close from async code: the connection on the reader thread, then the thread."""
        executor, self._executor = self._executor, None
        if executor is None:
            self.close()
            return
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        await asyncio.to_thread(executor.shutdown, True)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a query method on the reader's own thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-reader")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a SELECT (each query sees one consistent snapshot)."""
        for attempt in (1, 2):
            conn = self._open_conn()
            try:
                return conn.execute(sql, params).fetchall()
            except self.db.errors as exc:
                if conn.broken and attempt == 1:
                    conn.close()
                    self._conn = None
                    continue
                error = StoreError(f"query on the call store {self.path} failed: {exc}")
                error.transient = self.db.is_transient(exc)
                raise error from exc
        raise AssertionError("unreachable")

    def list_calls(
        self,
        since: float | None = None,
        outcome: str | None = None,
        limit: int = 100,
        live: bool | None = None,
    ) -> list[CallRecord]:
        """Calls newest first; ``outcome`` filters, ``live`` True for open calls only."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("started_at >= ?")
            params.append(since)
        if outcome is not None:
            where.append("outcome = ?")
            params.append(outcome)
        if live is True:
            where.append("outcome IS NULL")
        elif live is False:
            where.append("outcome IS NOT NULL")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.query(
            f"SELECT {CALL_COLUMNS} FROM calls {clause} ORDER BY started_at DESC, id LIMIT ?",
            (*params, limit),
        )
        return [_call(r) for r in rows]

    def get_call(self, call_id: str) -> CallRecord | None:
        """One call with its turns and events, or None."""
        rows = self.query(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = ?", (call_id,))
        if not rows:
            return None
        turns = tuple(
            Turn(*r)
            for r in self.query(
                "SELECT id, call_id, speaker, text, confidence, start_ms, end_ms, latency_ms, at "
                "FROM turns WHERE call_id = ? ORDER BY id",
                (call_id,),
            )
        )
        events = tuple(
            Event(r[0], r[1], r[2], json.loads(r[3]), r[4])
            for r in self.query(
                "SELECT id, call_id, kind, data, at FROM events WHERE call_id = ? ORDER BY id",
                (call_id,),
            )
        )
        base = _call(rows[0])
        return CallRecord(
            **{k: getattr(base, k) for k in CALL_COLUMNS.split(", ")}, turns=turns, events=events
        )

    def list_voicemails(
        self, since: float | None = None, limit: int = 100
    ) -> list[VoicemailRecord]:
        """Voicemails newest first."""
        clause, params = ("WHERE recorded_at >= ?", (since,)) if since is not None else ("", ())
        rows = self.query(
            f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails {clause} "
            "ORDER BY recorded_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [voicemail_from_row(r) for r in rows]

    def get_voicemail(self, voicemail_id: int) -> VoicemailRecord | None:
        """One voicemail, or None."""
        rows = self.query(
            f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails WHERE id = ?", (voicemail_id,)
        )
        return voicemail_from_row(rows[0]) if rows else None
