"""The store's schema as numbered migrations, applied in order and tracked by version.

One list for both databases: statements are written for SQLite and translated for
PostgreSQL by the connection (:meth:`~ari_app.store.db.Conn.ddl`). The version is
SQLite's ``user_version`` or PostgreSQL's ``ari_app_schema`` table. Never edit a released
migration: add a new one at the end. Each migration runs in its own transaction, so a
crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ari_app.store.errors import StoreError

if TYPE_CHECKING:
    from ari_app.store.db import Conn

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: calls, their turns and their events.
    (
        """CREATE TABLE calls (
            id TEXT PRIMARY KEY,
            line TEXT NOT NULL,
            caller TEXT,
            did TEXT,
            started_at REAL NOT NULL,
            ended_at REAL,
            outcome TEXT,
            handoff_reason TEXT,
            agent TEXT
        )""",
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            call_id TEXT NOT NULL REFERENCES calls(id),
            speaker TEXT NOT NULL,
            text TEXT NOT NULL,
            confidence REAL,
            start_ms INTEGER,
            end_ms INTEGER,
            latency_ms INTEGER,
            at REAL NOT NULL
        )""",
        "CREATE INDEX turns_by_call ON turns(call_id, id)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            call_id TEXT NOT NULL REFERENCES calls(id),
            kind TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            at REAL NOT NULL
        )""",
        "CREATE INDEX events_by_call ON events(call_id, id)",
    ),
    # 2: last activity per call (for crash recovery), knowledge gaps, time index.
    (
        "ALTER TABLE calls ADD COLUMN updated_at REAL",
        "UPDATE calls SET updated_at = COALESCE(ended_at, started_at)",
        "CREATE INDEX calls_by_start ON calls(started_at)",
        """CREATE TABLE knowledge_gaps (
            id INTEGER PRIMARY KEY,
            call_id TEXT REFERENCES calls(id),
            question TEXT NOT NULL,
            normalized TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX gaps_by_question ON knowledge_gaps(normalized)",
    ),
    # 3: durable voicemail jobs and their notifications.
    (
        """CREATE TABLE voicemails (
            id INTEGER PRIMARY KEY,
            recording_name TEXT NOT NULL UNIQUE,
            call_id TEXT,
            line TEXT,
            caller TEXT,
            recorded_at REAL NOT NULL,
            expected_duration_s REAL,
            state TEXT NOT NULL,
            path TEXT,
            size_bytes INTEGER,
            duration_s REAL,
            sample_rate INTEGER,
            transcript TEXT,
            transcript_error TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX voicemails_by_state ON voicemails(state)",
        """CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            voicemail_id INTEGER NOT NULL REFERENCES voicemails(id),
            channel TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (voicemail_id, channel)
        )""",
    ),
    # 4: voicemail claims (a lease per worker) and what a pool of workers shares.
    (
        "ALTER TABLE voicemails ADD COLUMN claimed_by TEXT",
        "ALTER TABLE voicemails ADD COLUMN claimed_at REAL",
        """CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            started_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL
        )""",
        """CREATE TABLE live_calls (
            call_id TEXT PRIMARY KEY,
            worker_id TEXT NOT NULL,
            line TEXT,
            claimed_at REAL NOT NULL
        )""",
        "CREATE INDEX live_calls_by_worker ON live_calls(worker_id)",
        """CREATE TABLE ai_seats (
            call_id TEXT PRIMARY KEY,
            line TEXT NOT NULL,
            worker_id TEXT NOT NULL,
            taken_at REAL NOT NULL
        )""",
        """CREATE TABLE round_robin (
            team TEXT PRIMARY KEY,
            next_index INTEGER NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE agents (
            agent TEXT PRIMARY KEY,
            last_call_end REAL,
            busy_call TEXT,
            busy_worker TEXT,
            busy_since REAL
        )""",
    ),
    # 5: which Asterisk recorded a voicemail (its asterisk_id): a pool of Asterisks keeps
    # each message on the one that recorded it, where it is fetched and deleted.
    ("ALTER TABLE voicemails ADD COLUMN asterisk_id TEXT",),
)

LATEST_VERSION = len(MIGRATIONS)
"""The schema version this code reads and writes."""


def schema_version(conn: Conn) -> int:
    """The version recorded in the database (0 for a new one)."""
    return conn.schema_version()


def migrate(conn: Conn, target: int = LATEST_VERSION) -> int:
    """Apply the migrations after the database's version up to ``target``; return the new
    version. ``conn`` must be in autocommit mode (a SQLite connection wrapped in
    :class:`~ari_app.store.sqlite_db.SqliteConn`: ``isolation_level=None``)."""
    current = conn.schema_version()
    if current > LATEST_VERSION:
        raise StoreError(
            f"the store has schema version {current}, newer than this ari_app "
            f"(knows up to {LATEST_VERSION}); upgrade ari_app"
        )
    for version in range(current + 1, target + 1):
        conn.begin()
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(conn.ddl(statement))
            conn.set_schema_version(version)
        except BaseException:
            conn.rollback_quietly()
            raise
        conn.commit()
        log.info("store migrated to schema version %d", version)
    return max(current, target)
