"""The SQLite store of one box: a file in WAL mode, ``synchronous=FULL``, ``user_version``.

The writer's connection creates and migrates the file; readers open it read-only and
refuse a schema version other than the one this code knows.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ari_app.store.db import Conn, Database, Result
from ari_app.store.errors import StoreError
from ari_app.store.schema import LATEST_VERSION, migrate


class SqliteConn(Conn):
    """A :class:`sqlite3.Connection` in autocommit mode (``isolation_level=None``)."""

    dialect = "sqlite"
    greatest = "MAX"
    skip_locked = ""
    for_update = ""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        cursor = self.raw.execute(sql, tuple(params))
        rows = cursor.fetchall() if cursor.description is not None else []
        return Result([tuple(r) for r in rows], cursor.rowcount)

    def begin(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    @property
    def broken(self) -> bool:
        return False

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.raw.close()

    def schema_version(self) -> int:
        row = self.raw.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def set_schema_version(self, version: int) -> None:
        self.raw.execute(f"PRAGMA user_version = {int(version)}")

    def ddl(self, statement: str) -> str:
        return statement

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"


class SqliteDatabase(Database):
    """The store in one SQLite file."""

    shared = False

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self._path = Path(path)
        self.label = str(self._path)
        self.busy_timeout_ms = busy_timeout_ms

    @property
    def path(self) -> Path:
        return self._path

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError)

    def connect(self, *, write: bool) -> SqliteConn:
        return self._writable() if write else self._read_only()

    def _writable(self) -> SqliteConn:
        path = self._path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the call store {path}: {exc}") from exc
        conn = SqliteConn(raw)
        try:
            raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = raw.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot put the call store {path} in WAL mode (got {mode})")
            raw.execute("PRAGMA synchronous = FULL")
            raw.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot prepare the call store {path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_only(self) -> SqliteConn:
        path = self._path
        if not path.exists():
            raise StoreError(
                f"no call store at {path} (run the app or the demo first, or pass --db)"
            )
        uri = f"{path.resolve().as_uri()}?mode=ro"
        try:
            raw = sqlite3.connect(uri, uri=True, check_same_thread=False)
            raw.execute("PRAGMA busy_timeout = 5000")
            conn = SqliteConn(raw)
            version = conn.schema_version()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the call store {path}: {exc}") from exc
        if version != LATEST_VERSION:
            conn.close()
            raise StoreError(
                f"the call store {path} has schema version {version}, this ari_app "
                f"reads version {LATEST_VERSION}; start the app once to migrate it"
            )
        return conn
