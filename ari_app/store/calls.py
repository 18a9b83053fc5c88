"""Writing a call record as the call happens: start, turns, events, handoff, outcome.

Each write is a function of the store's connection adapter, so it runs on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ari_app.store.db import Conn
from ari_app.store.errors import StoreError
from ari_app.store.models import Outcome, to_epoch
from ari_app.store.writer import StoreWriter

log = logging.getLogger(__name__)

FINAL_OUTCOMES = frozenset(o.value for o in Outcome)


def normalize_question(text: str) -> str:
    """Lower-case words only, so the same question groups together in reports."""
    return " ".join(re.findall(r"[\w']+", text.lower()))


def _outcome(value: Outcome | str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        allowed = ", ".join(o.value for o in Outcome)
        raise StoreError(f"unknown call outcome {value!r} (use one of: {allowed})") from None


def _touch(conn: Conn, call_id: str, at: float) -> None:
    cursor = conn.execute(
        f"UPDATE calls SET updated_at = {conn.greatest}(COALESCE(updated_at, 0), ?) WHERE id = ?",
        (at, call_id),
    )
    if cursor.rowcount == 0:
        raise StoreError(f"no call {call_id!r} in the store (start_call first)")


def _new_id(row: tuple[Any, ...] | None) -> int:
    return int(row[0]) if row is not None else 0


class CallStore:
    """The write side of call records; every method commits before it returns."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer

    async def start_call(
        self,
        call_id: str,
        line: str,
        caller: str | None,
        did: str | None,
        started_at: datetime | None = None,
    ) -> bool:
        """Record a new live call; True when it resumes a call already in the store.

        A call taken back after a restart (its row closed as ``interrupted``) is opened
        again, with a ``resumed`` event, instead of failing: the call goes on.
        """
        at = to_epoch(started_at)

        def write(conn: Conn) -> bool:
            cursor = conn.execute(
                "INSERT INTO calls (id, line, caller, did, started_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (call_id, line, caller, did, at, at),
            )
            if cursor.rowcount:
                return False
            row = conn.execute("SELECT outcome FROM calls WHERE id = ?", (call_id,)).fetchone()
            conn.execute(
                "UPDATE calls SET outcome = NULL, ended_at = NULL, "
                f"updated_at = {conn.greatest}(COALESCE(updated_at, 0), ?) WHERE id = ?",
                (at, call_id),
            )
            previous = row[0] if row is not None else None
            payload = json.dumps({"previous_outcome": previous}, sort_keys=True)
            conn.execute(
                "INSERT INTO events (call_id, kind, data, at) VALUES (?, 'resumed', ?, ?)",
                (call_id, payload, at),
            )
            return True

        resumed = await self._writer.write(write)
        if resumed:
            log.info("call %s resumes its record", call_id)
        return resumed

    async def add_turn(
        self,
        call_id: str,
        speaker: str,
        text: str,
        *,
        confidence: float | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        latency_ms: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Record one utterance; return its id."""
        when = to_epoch(at)

        def write(conn: Conn) -> int:
            _touch(conn, call_id, when)
            cursor = conn.execute(
                "INSERT INTO turns (call_id, speaker, text, confidence, start_ms, end_ms, "
                "latency_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (call_id, speaker, text, confidence, start_ms, end_ms, latency_ms, when),
            )
            return _new_id(cursor.fetchone())

        return await self._writer.write(write)

    async def add_event(
        self,
        call_id: str,
        kind: str,
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        """Record something that happened in the call (``data`` must be JSON-serialisable)."""
        when = to_epoch(at)
        try:
            payload = json.dumps(data or {}, sort_keys=True, default=str)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"event {kind!r} data is not JSON: {exc}") from exc

        def write(conn: Conn) -> int:
            _touch(conn, call_id, when)
            cursor = conn.execute(
                "INSERT INTO events (call_id, kind, data, at) VALUES (?, ?, ?, ?) RETURNING id",
                (call_id, kind, payload, when),
            )
            return _new_id(cursor.fetchone())

        return await self._writer.write(write)

    async def note_handoff(
        self, call_id: str, reason: str, target: str | None = None, at: datetime | None = None
    ) -> None:
        """Record that a handoff started and why (the outcome comes later)."""
        when = to_epoch(at)
        payload = json.dumps({"reason": reason, "target": target}, sort_keys=True)

        def write(conn: Conn) -> None:
            _touch(conn, call_id, when)
            conn.execute("UPDATE calls SET handoff_reason = ? WHERE id = ?", (reason, call_id))
            conn.execute(
                "INSERT INTO events (call_id, kind, data, at) VALUES (?, 'handoff', ?, ?)",
                (call_id, payload, when),
            )

        await self._writer.write(write)

    async def finish_call(
        self,
        call_id: str,
        outcome: Outcome | str,
        handoff_reason: str | None = None,
        agent: str | None = None,
        ended_at: datetime | None = None,
    ) -> bool:
        """Record how the call ended; False if it had already ended (nothing changed)."""
        result = _outcome(outcome)
        when = to_epoch(ended_at)

        def write(conn: Conn) -> bool:
            row = conn.execute("SELECT outcome FROM calls WHERE id = ?", (call_id,)).fetchone()
            if row is None:
                raise StoreError(f"no call {call_id!r} in the store (start_call first)")
            if row[0] is not None:
                return False
            conn.execute(
                "UPDATE calls SET outcome = ?, ended_at = ?, updated_at = ?, "
                "handoff_reason = COALESCE(?, handoff_reason), agent = COALESCE(?, agent) "
                "WHERE id = ?",
                (result.value, when, when, handoff_reason, agent, call_id),
            )
            return True

        changed = await self._writer.write(write)
        if not changed:
            log.warning("call %s had already ended; outcome %s ignored", call_id, result.value)
        return changed

    async def add_knowledge_gap(
        self, call_id: str | None, question: str, at: datetime | None = None
    ) -> int:
        """Record a question the answer engine could not answer."""
        when = to_epoch(at)
        normalized = normalize_question(question)
        if not normalized:
            raise StoreError("a knowledge gap needs a question with words in it")

        def write(conn: Conn) -> int:
            if call_id is not None:
                _touch(conn, call_id, when)
            cursor = conn.execute(
                "INSERT INTO knowledge_gaps (call_id, question, normalized, at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (call_id, question.strip(), normalized, when),
            )
            return _new_id(cursor.fetchone())

        return await self._writer.write(write)

    async def mark_interrupted(self, only: Sequence[str] | None = None) -> list[str]:
        """Close every call left open by a previous run as ``interrupted``; return their ids.

        ``only``: just these calls, if still open (in a shared store: a dead worker's calls
        that no survivor could adopt).
        """

        def write(conn: Conn) -> list[str]:
            ids = [r[0] for r in conn.execute("SELECT id FROM calls WHERE outcome IS NULL")]
            if only is not None:
                wanted = set(only)
                ids = [i for i in ids if i in wanted]
            for call_id in ids:
                conn.execute(
                    "UPDATE calls SET outcome = 'interrupted', "
                    "ended_at = COALESCE(updated_at, started_at) WHERE id = ?",
                    (call_id,),
                )
                conn.execute(
                    "INSERT INTO events (call_id, kind, data, at) SELECT id, 'interrupted', "
                    '\'{"note": "the application stopped during the call"}\', '
                    "COALESCE(updated_at, started_at) FROM calls WHERE id = ?",
                    (call_id,),
                )
            return ids

        ids = await self._writer.write(write)
        if ids:
            log.warning("marked %d call(s) left open by a previous run as interrupted", len(ids))
        return ids
