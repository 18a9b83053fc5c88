"""Fixtures of the store tests: a throwaway PostgreSQL cluster and a store on each backend.

``store_target`` is a fresh, empty store for one test, once on SQLite (a file in the
test's folder) and once on PostgreSQL (a new database in the session's cluster, made by
:class:`~ari_app.testing.pg_cluster.PgCluster` with Debian's server, run as a non-root
user). Pass it to ``Store(...)`` or ``StoreReader(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ari_app.store.db import Database
from ari_app.store.pg_db import PostgresDatabase
from ari_app.testing.pg_cluster import PgCluster, PgClusterError

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL server for the whole session (stopped and deleted at the end)."""
    try:
        cluster = PgCluster().start()
    except PgClusterError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


def pg_database(cluster: PgCluster) -> PostgresDatabase:
    """A new empty database on ``cluster`` (with the password)."""
    return PostgresDatabase(cluster.database(), password=cluster.password)


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | Database:
    """A fresh store: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "store.sqlite3"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return pg_database(cluster)
