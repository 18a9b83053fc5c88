"""The shared-state protocols held in the store, so a pool of workers routes as one.

Every operation is one transaction on the store's writer (so the same SQL runs on
SQLite, for tests and a single box, and on PostgreSQL, shared by the pool). A worker is
alive while its row in ``workers`` has a heartbeat younger than the store's ``lease_s``;
seats, busy marks and live calls of a dead worker stop counting at once and can be
adopted (:meth:`StoreCallOwnership.adopt`) or dropped (:meth:`forget_worker`). Times
are the workers' wall clocks (keep them in sync with NTP; the lease absorbs small skew).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ari_app.routing.plan import Member, RingStep
from ari_app.routing.ring import RingAttempt, RingHistory, ring_attempts
from ari_app.shared.protocols import OwnedCall
from ari_app.store.db import Conn
from ari_app.store.store import Store
from ari_app.store.workers import beat

SEAT_LOCK = 0x4A71_5EA7
"""PostgreSQL advisory lock held while a seat is counted and taken (one at a time)."""
LIVE = "SELECT id FROM workers WHERE heartbeat_at >= ?"
"""Workers alive now (one parameter: now - lease)."""


def _history(conn: Conn, team: str, names: list[str], *, lock: bool = False) -> RingHistory:
    """``team``'s round-robin position and ``names``' last call ends (the team's row locked
    until the transaction ends with ``lock``, on PostgreSQL)."""
    history = RingHistory()
    row = conn.execute(
        f"SELECT next_index FROM round_robin WHERE team = ?{conn.for_update if lock else ''}",
        (team,),
    ).fetchone()
    if row is not None:
        history.next_index[team] = int(row[0])
    if names:
        marks = ", ".join("?" for _ in names)
        for agent, ended in conn.execute(
            f"SELECT agent, last_call_end FROM agents WHERE agent IN ({marks}) "
            "AND last_call_end IS NOT NULL",
            names,
        ):
            history.last_call_end[str(agent)] = float(ended)
    return history


def _move_past(conn: Conn, team: str, names: list[str], user: str, now: float) -> None:
    """Round robin starts after ``user`` next time."""
    position = (names.index(user) + 1) % len(names)
    conn.execute(
        "INSERT INTO round_robin (team, next_index, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (team) DO UPDATE SET next_index = excluded.next_index, "
        "updated_at = excluded.updated_at",
        (team, position, now),
    )


def _close_calls(conn: Conn, worker_id: str, quiet_since: float) -> list[str]:
    """Close as ``interrupted`` the open calls ``worker_id`` still owns with nothing written
    after ``quiet_since`` (a call a survivor took back has newer rows and is left alone)."""
    ids = [
        str(r[0])
        for r in conn.execute(
            "SELECT c.id FROM calls c JOIN live_calls l ON l.call_id = c.id "
            "WHERE l.worker_id = ? AND c.outcome IS NULL "
            "AND COALESCE(c.updated_at, c.started_at) <= ? ORDER BY c.id",
            (worker_id, quiet_since),
        )
    ]
    for call_id in ids:
        conn.execute(
            "UPDATE calls SET outcome = 'interrupted', "
            "ended_at = COALESCE(updated_at, started_at) WHERE id = ?",
            (call_id,),
        )
        conn.execute(
            "INSERT INTO events (call_id, kind, data, at) SELECT id, 'interrupted', "
            '\'{"note": "its worker stopped during the call"}\', '
            "COALESCE(updated_at, started_at) FROM calls WHERE id = ?",
            (call_id,),
        )
    return ids


class _OnStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.worker_id = store.worker_id
        self.lease_s = store.lease_s

    def _alive_since(self) -> float:
        return time.time() - self.lease_s


class StoreRoutingState(_OnStore):
    """Round-robin positions, last call ends and busy agents in the store."""

    async def history(self, team: str, users: Sequence[str]) -> RingHistory:
        names = list(dict.fromkeys(users))
        return await self.store.writer.write(lambda conn: _history(conn, team, names))

    async def ring_plan(self, step: RingStep, free: set[str]) -> list[RingAttempt]:
        team, names = step.target, [m.user for m in step.members]
        now = time.time()

        def plan(conn: Conn) -> list[RingAttempt]:
            # The team's row is locked until this transaction ends: a second call (on any
            # worker) waits for the first's choice and starts after it.
            conn.execute(
                "INSERT INTO round_robin (team, next_index, updated_at) VALUES (?, 0, ?) "
                "ON CONFLICT (team) DO NOTHING",
                (team, now),
            )
            history = _history(conn, team, list(dict.fromkeys(names)), lock=True)
            attempts = ring_attempts(step, lambda m: m.user in free, history)
            if attempts:
                _move_past(conn, team, names, attempts[0].members[0].user, now)
            return attempts

        return await self.store.writer.write(plan)

    async def note_attempted(self, team: str, members: Sequence[Member], first: Member) -> None:
        names = [m.user for m in members]
        if first.user not in names:
            return
        now = time.time()
        await self.store.writer.write(lambda conn: _move_past(conn, team, names, first.user, now))

    async def note_busy(self, user: str, call_id: str) -> None:
        now = time.time()

        def mark(conn: Conn) -> None:
            beat(conn, self.worker_id, now)
            conn.execute(
                "INSERT INTO agents (agent, busy_call, busy_worker, busy_since) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (agent) DO UPDATE SET "
                "busy_call = excluded.busy_call, busy_worker = excluded.busy_worker, "
                "busy_since = excluded.busy_since",
                (user, call_id, self.worker_id, now),
            )

        await self.store.writer.write(mark)

    async def note_call_ended(self, user: str, at: float) -> None:
        await self.store.writer.write(
            lambda conn: conn.execute(
                "INSERT INTO agents (agent, last_call_end) VALUES (?, ?) "
                "ON CONFLICT (agent) DO UPDATE SET last_call_end = excluded.last_call_end, "
                "busy_call = NULL, busy_worker = NULL, busy_since = NULL",
                (user, at),
            )
        )

    async def busy_agents(self) -> set[str]:
        since = self._alive_since()

        def read(conn: Conn) -> set[str]:
            rows = conn.execute(
                "SELECT agent FROM agents WHERE busy_call IS NOT NULL "
                f"AND (busy_worker = ? OR busy_worker IN ({LIVE}))",
                (self.worker_id, since),
            )
            return {str(r[0]) for r in rows}

        return await self.store.writer.write(read)


class StoreAiSeats(_OnStore):
    """The AI agent's seats counted over every live worker."""

    async def try_acquire(
        self, call_id: str, line: str, *, line_limit: int | None, total_limit: int | None
    ) -> bool:
        now = time.time()
        since = now - self.lease_s

        def take(conn: Conn) -> bool:
            if conn.dialect == "postgresql":
                conn.execute("SELECT pg_advisory_xact_lock(?)", (SEAT_LOCK,))
            beat(conn, self.worker_id, now)
            held = conn.execute("SELECT 1 FROM ai_seats WHERE call_id = ?", (call_id,))
            if held.fetchone() is not None:
                conn.execute(
                    "UPDATE ai_seats SET worker_id = ? WHERE call_id = ?",
                    (self.worker_id, call_id),
                )
                return True
            counted = f"FROM ai_seats WHERE worker_id IN ({LIVE})"
            if line_limit is not None:
                row = conn.execute(f"SELECT COUNT(*) {counted} AND line = ?", (since, line))
                if int(row.fetchall()[0][0]) >= line_limit:
                    return False
            if total_limit is not None:
                row = conn.execute(f"SELECT COUNT(*) {counted}", (since,))
                if int(row.fetchall()[0][0]) >= total_limit:
                    return False
            conn.execute(
                "INSERT INTO ai_seats (call_id, line, worker_id, taken_at) VALUES (?, ?, ?, ?)",
                (call_id, line, self.worker_id, now),
            )
            return True

        return await self.store.writer.write(take)

    async def release(self, call_id: str) -> None:
        await self.store.writer.write(
            lambda conn: conn.execute("DELETE FROM ai_seats WHERE call_id = ?", (call_id,))
        )

    async def in_use(self, line: str | None = None) -> int:
        since = self._alive_since()

        def count(conn: Conn) -> int:
            sql = f"SELECT COUNT(*) FROM ai_seats WHERE (worker_id = ? OR worker_id IN ({LIVE}))"
            params: tuple[object, ...] = (self.worker_id, since)
            if line is not None:
                sql, params = f"{sql} AND line = ?", (*params, line)
            return int(conn.execute(sql, params).fetchall()[0][0])

        return await self.store.writer.write(count)


class StoreCallOwnership(_OnStore):
    """Which worker owns which live call, with a heartbeat per worker."""

    async def heartbeat(self) -> None:
        now = time.time()
        await self.store.writer.write(lambda conn: beat(conn, self.worker_id, now))

    async def claim(self, call_id: str, line: str | None) -> bool:
        now = time.time()
        me = self.worker_id

        def take(conn: Conn) -> bool:
            beat(conn, me, now)
            conn.execute(
                "INSERT INTO live_calls (call_id, worker_id, line, claimed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING",
                (call_id, me, line, now),
            )
            moved = conn.execute(
                "UPDATE live_calls SET worker_id = ?, claimed_at = ? WHERE call_id = ? "
                f"AND (worker_id = ? OR worker_id NOT IN ({LIVE}))",
                (me, now, call_id, me, now - self.lease_s),
            )
            return moved.rowcount > 0

        return await self.store.writer.write(take)

    async def release(self, call_id: str) -> None:
        await self.store.writer.write(
            lambda conn: conn.execute(
                "DELETE FROM live_calls WHERE call_id = ? AND worker_id = ?",
                (call_id, self.worker_id),
            )
        )

    async def owner(self, call_id: str) -> str | None:
        def read(conn: Conn) -> str | None:
            row = conn.execute(
                "SELECT worker_id FROM live_calls WHERE call_id = ?", (call_id,)
            ).fetchone()
            return None if row is None else str(row[0])

        return await self.store.writer.write(read)

    async def dead_workers(self) -> list[str]:
        since = self._alive_since()

        def read(conn: Conn) -> list[str]:
            rows = conn.execute(
                "SELECT id FROM workers WHERE heartbeat_at < ? UNION "
                "SELECT worker_id FROM live_calls WHERE worker_id NOT IN (SELECT id FROM workers) "
                "ORDER BY 1",
                (since,),
            )
            return [str(r[0]) for r in rows if r[0] != self.worker_id]

        return await self.store.writer.write(read)

    async def calls_of(self, worker_id: str) -> list[OwnedCall]:
        def read(conn: Conn) -> list[OwnedCall]:
            rows = conn.execute(
                "SELECT call_id, worker_id, line, claimed_at FROM live_calls "
                "WHERE worker_id = ? ORDER BY claimed_at, call_id",
                (worker_id,),
            )
            return [OwnedCall(str(c), str(w), line, float(at)) for c, w, line, at in rows]

        return await self.store.writer.write(read)

    async def adopt(self, call_id: str) -> bool:
        now = time.time()
        me = self.worker_id

        def take(conn: Conn) -> bool:
            beat(conn, me, now)
            moved = conn.execute(
                "UPDATE live_calls SET worker_id = ?, claimed_at = ? WHERE call_id = ? "
                f"AND worker_id <> ? AND worker_id NOT IN ({LIVE})",
                (me, now, call_id, me, now - self.lease_s),
            )
            if moved.rowcount == 0:
                return False
            conn.execute("UPDATE ai_seats SET worker_id = ? WHERE call_id = ?", (me, call_id))
            conn.execute("UPDATE agents SET busy_worker = ? WHERE busy_call = ?", (me, call_id))
            return True

        return await self.store.writer.write(take)

    async def forget_worker(self, worker_id: str, *, close_calls: bool = False) -> list[str]:
        since = self._alive_since()
        gap = self.lease_s / 3  # the worker wrote nothing later than this after its last beat

        def drop(conn: Conn) -> list[str]:
            row = conn.execute("SELECT heartbeat_at FROM workers WHERE id = ?", (worker_id,))
            beat_at = row.fetchone()
            if beat_at is not None and float(beat_at[0]) >= since:
                return []  # alive
            closed: list[str] = []
            if close_calls and beat_at is not None:
                closed = _close_calls(conn, worker_id, float(beat_at[0]) + gap)
            conn.execute("DELETE FROM ai_seats WHERE worker_id = ?", (worker_id,))
            conn.execute(
                "UPDATE agents SET busy_call = NULL, busy_worker = NULL, busy_since = NULL "
                "WHERE busy_worker = ?",
                (worker_id,),
            )
            conn.execute("DELETE FROM live_calls WHERE worker_id = ?", (worker_id,))
            conn.execute("DELETE FROM workers WHERE id = ?", (worker_id,))
            return closed

        return await self.store.writer.write(drop)
