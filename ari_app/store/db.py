"""The store's database behind one small interface, so the same SQL runs on SQLite or PostgreSQL.

Store code writes its SQL once, with ``?`` placeholders, and runs it on a :class:`Conn`
(the PostgreSQL adapter turns ``?`` into psycopg's ``%s``). The few differences between
the two dialects are attributes of the connection (:attr:`Conn.greatest`, :meth:`Conn.ddl`,
:meth:`Conn.json_text`, :attr:`Conn.skip_locked`). Every result is fetched at once into a
:class:`Result` (the store's queries are small and bounded).

A :class:`Database` says where the store is and opens connections to it: the SQLite file
of one box (:class:`~ari_app.store.sqlite_db.SqliteDatabase`) or a PostgreSQL server
shared by a pool of workers (:class:`~ari_app.store.pg_db.PostgresDatabase`);
:mod:`ari_app.store.target` picks one from the settings.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any


class Result:
    """The rows of one statement (all fetched) and how many rows it changed."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return self.rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)


class Conn(ABC):
    """One connection in autocommit mode; transactions are begun and ended explicitly."""

    dialect: str
    """``sqlite`` or ``postgresql``."""
    greatest: str
    """The two-argument maximum: ``MAX`` in SQLite, ``GREATEST`` in PostgreSQL."""
    skip_locked: str
    """`` FOR UPDATE SKIP LOCKED`` in PostgreSQL (rows another worker is claiming are
    passed over); empty in SQLite, where the one writer's transaction locks the file."""
    for_update: str
    """`` FOR UPDATE`` in PostgreSQL (the rows read are locked until the transaction ends);
    empty in SQLite."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement (``?`` placeholders) and fetch its rows."""

    @abstractmethod
    def begin(self) -> None:
        """Start a write transaction."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """True inside a transaction."""

    @property
    @abstractmethod
    def broken(self) -> bool:
        """True when the connection is lost and a new one is needed."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (never raises)."""

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version recorded in the database (0 for a new one)."""

    @abstractmethod
    def set_schema_version(self, version: int) -> None:
        """Record the schema version (inside the migration's transaction)."""

    @abstractmethod
    def ddl(self, statement: str) -> str:
        """A migration statement (written for SQLite) in this dialect."""

    @abstractmethod
    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of ``key`` in the JSON object held in ``column``."""

    @contextlib.contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Held while migrating, so two workers starting at once migrate only once."""
        yield

    def commit(self) -> None:
        """Commit the transaction."""
        self.execute("COMMIT")

    def rollback_quietly(self) -> None:
        """Roll back if a transaction is open; a lost connection is left to reconnect."""
        with contextlib.suppress(Exception):
            if self.in_transaction and not self.broken:
                self.execute("ROLLBACK")


class Database(ABC):
    """Where the store is; opens connections to it."""

    label: str
    """How messages name the store (a file path, or the URL without a password)."""
    shared: bool
    """True when several workers share it (PostgreSQL): claims and shared state apply."""

    @abstractmethod
    def connect(self, *, write: bool) -> Conn:
        """A new connection: ``write`` creates and migrates the store; otherwise the store
        must exist with the current schema. Raises :class:`StoreError`."""

    @abstractmethod
    def is_transient(self, exc: BaseException) -> bool:
        """True for a driver error that may pass if tried again (locked, disconnected)."""

    @property
    @abstractmethod
    def errors(self) -> tuple[type[BaseException], ...]:
        """The driver's exception classes."""

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server."""
        return None
