"""Which database a store setting names: ``store.url`` (PostgreSQL) or ``store.path`` (SQLite)."""

from __future__ import annotations

import os
from pathlib import Path

from ari_app.config.models import StoreSettings
from ari_app.store.db import Database
from ari_app.store.pg_db import PostgresDatabase
from ari_app.store.sqlite_db import SqliteDatabase


def database_for(settings: StoreSettings, *, busy_timeout_ms: int = 5000) -> Database:
    """The database ``settings`` name: ``store.url`` (PostgreSQL) if set, else ``store.path``."""
    if settings.url is not None:
        return PostgresDatabase(settings.url, password=os.environ.get(settings.password_env))
    return SqliteDatabase(Path(settings.path), busy_timeout_ms=busy_timeout_ms)


def as_database(target: Path | str | Database, *, busy_timeout_ms: int = 5000) -> Database:
    """A :class:`Database` from a SQLite path, a ``postgresql://`` URL or a database."""
    if isinstance(target, Database):
        return target
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(target)
    return SqliteDatabase(Path(target), busy_timeout_ms=busy_timeout_ms)
