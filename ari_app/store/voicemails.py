"""The voicemail job rows: each step of saving a voicemail is committed here before the next."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ari_app.store.db import Conn
from ari_app.store.errors import StoreError
from ari_app.store.models import Notification, VoicemailRecord, VoicemailState, to_epoch
from ari_app.store.writer import StoreWriter

VOICEMAIL_COLUMNS = (
    "id, recording_name, call_id, line, caller, recorded_at, expected_duration_s, state, path, "
    "size_bytes, duration_s, sample_rate, transcript, transcript_error, error, attempts, "
    "created_at, updated_at, asterisk_id"
)


_ADOPTED = "found on Asterisk after a restart, without a job"


def voicemail_from_row(row: tuple[Any, ...] | None) -> VoicemailRecord:
    """Build a record from a row selected with ``VOICEMAIL_COLUMNS``."""
    if row is None:
        raise StoreError("the voicemail job row is gone")
    return VoicemailRecord(*row)


def _now() -> float:
    return to_epoch(None)


def _set(conn: Conn, job_id: int, **columns: Any) -> None:
    columns["updated_at"] = _now()
    assignments = ", ".join(f"{name} = ?" for name in columns)
    cursor = conn.execute(
        f"UPDATE voicemails SET {assignments} WHERE id = ?", (*columns.values(), job_id)
    )
    if cursor.rowcount == 0:
        raise StoreError(f"no voicemail job {job_id}")


class VoicemailStore:
    """The write side of voicemail jobs and their notifications."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer

    async def create_job(
        self,
        recording_name: str,
        *,
        call_id: str | None,
        line: str | None,
        caller: str | None,
        recorded_at: datetime | None = None,
        expected_duration_s: float | None = None,
        asterisk_id: str | None = None,
    ) -> VoicemailRecord:
        """Write the job row (state ``pending``) before anything is fetched; idempotent by name.

        ``asterisk_id``: the Asterisk that holds the recording (outbound mode, many Asterisks).
        """
        when = to_epoch(recorded_at)
        now = _now()

        def write(conn: Conn) -> VoicemailRecord:
            conn.execute(
                "INSERT INTO voicemails (recording_name, call_id, line, caller, recorded_at, "
                "expected_duration_s, state, created_at, updated_at, asterisk_id) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
                # Adopted first (found on Asterisk): the call's own details complete it.
                "ON CONFLICT (recording_name) DO UPDATE SET "
                "call_id = COALESCE(voicemails.call_id, excluded.call_id), "
                "line = COALESCE(voicemails.line, excluded.line), "
                "caller = COALESCE(voicemails.caller, excluded.caller), "
                "expected_duration_s = "
                "COALESCE(voicemails.expected_duration_s, excluded.expected_duration_s), "
                "asterisk_id = COALESCE(voicemails.asterisk_id, excluded.asterisk_id)",
                (
                    recording_name,
                    call_id,
                    line,
                    caller,
                    when,
                    expected_duration_s,
                    now,
                    now,
                    asterisk_id or None,
                ),
            )
            row = conn.execute(
                f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails WHERE recording_name = ?",
                (recording_name,),
            ).fetchone()
            return voicemail_from_row(row)

        return await self._writer.write(write)

    async def adopt_recording(
        self, recording_name: str, *, asterisk_id: str | None = None
    ) -> VoicemailRecord | None:
        """A job for a recording Asterisk holds that no job names yet (after a crash).

        The call it belongs to is found by name (``voicemail-<call id, . as ->-<suffix>``)
        for its line and caller. None when a job for the recording exists already.
        ``asterisk_id``: the Asterisk that holds it (its key in ``ari.outbound.asterisks``).
        """
        now = _now()

        def write(conn: Conn) -> VoicemailRecord | None:
            exists = conn.execute(
                "SELECT 1 FROM voicemails WHERE recording_name = ?", (recording_name,)
            ).fetchone()
            if exists is not None:
                return None
            call = conn.execute(
                "SELECT id, line, caller, COALESCE(updated_at, started_at) FROM calls "
                "WHERE substr(?, 1, length('voicemail-' || REPLACE(id, '.', '-') || '-')) "
                "= 'voicemail-' || REPLACE(id, '.', '-') || '-' "
                "OR ? = 'voicemail-' || REPLACE(id, '.', '-')",  # names before the suffix
                (recording_name, recording_name),
            ).fetchone()
            call_id, line, caller, at = call if call is not None else (None, None, None, now)
            conn.execute(
                "INSERT INTO voicemails (recording_name, call_id, line, caller, recorded_at, "
                "state, error, created_at, updated_at, asterisk_id) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                (recording_name, call_id, line, caller, at, _ADOPTED, now, now, asterisk_id),
            )
            row = conn.execute(
                f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails WHERE recording_name = ?",
                (recording_name,),
            ).fetchone()
            return voicemail_from_row(row)

        return await self._writer.write(write)

    async def mark_empty(self, job_id: int) -> None:
        """Record that the message holds no speech: kept, finished, nobody notified."""
        await self._writer.write(
            lambda conn: _set(conn, job_id, state=VoicemailState.EMPTY.value, error=None)
        )

    async def count_attempt(self, job_id: int) -> int:
        """Count one more attempt at the job; return the new count."""

        def write(conn: Conn) -> int:
            conn.execute(
                "UPDATE voicemails SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (_now(), job_id),
            )
            row = conn.execute("SELECT attempts FROM voicemails WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise StoreError(f"no voicemail job {job_id}")
            return int(row[0])

        return await self._writer.write(write)

    async def mark_stored(
        self, job_id: int, *, path: str, size_bytes: int, duration_s: float, sample_rate: int
    ) -> None:
        """Record that the audio is on our disk and verified."""
        await self._writer.write(
            lambda conn: _set(
                conn,
                job_id,
                state=VoicemailState.STORED.value,
                path=path,
                size_bytes=size_bytes,
                duration_s=duration_s,
                sample_rate=sample_rate,
                error=None,
            )
        )

    async def mark_saved(
        self,
        job_id: int,
        *,
        transcript: str | None,
        transcript_error: str | None,
        notify_channels: tuple[str, ...] = (),
    ) -> None:
        """Record the transcript and owe the notifications, in one transaction."""
        now = _now()

        def write(conn: Conn) -> None:
            _set(
                conn,
                job_id,
                state=VoicemailState.SAVED.value,
                transcript=transcript,
                transcript_error=transcript_error,
            )
            for channel in notify_channels:
                conn.execute(
                    "INSERT INTO notifications (voicemail_id, channel, state, created_at, "
                    "updated_at) VALUES (?, ?, 'pending', ?, ?) "
                    "ON CONFLICT (voicemail_id, channel) DO NOTHING",
                    (job_id, channel, now, now),
                )

        await self._writer.write(write)

    async def mark_done(self, job_id: int) -> None:
        """Record that Asterisk's copy is deleted: the job is finished."""
        await self._writer.write(
            lambda conn: _set(conn, job_id, state=VoicemailState.DONE.value, error=None)
        )

    async def mark_failed(self, job_id: int, error: str) -> None:
        """Give up on the job, saying why."""
        await self._writer.write(
            lambda conn: _set(conn, job_id, state=VoicemailState.FAILED.value, error=error)
        )

    async def note_error(self, job_id: int, error: str) -> None:
        """Record the last error of a job that will be retried."""
        await self._writer.write(lambda conn: _set(conn, job_id, error=error))

    async def unfinished(self) -> list[VoicemailRecord]:
        """Jobs not yet done or failed, oldest first (read on the writer, so it sees all writes)."""

        def read(conn: Conn) -> list[VoicemailRecord]:
            rows = conn.execute(
                f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails "
                "WHERE state NOT IN ('done', 'failed', 'empty') ORDER BY id"
            ).fetchall()
            return [voicemail_from_row(r) for r in rows]

        return await self._writer.write(read)

    async def get(self, job_id: int) -> VoicemailRecord:
        """One job as the writer sees it."""

        def read(conn: Conn) -> VoicemailRecord:
            row = conn.execute(
                f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no voicemail job {job_id}")
            return voicemail_from_row(row)

        return await self._writer.write(read)

    async def pending_notifications(self) -> list[Notification]:
        """Notifications not yet sent or given up, oldest first."""

        def read(conn: Conn) -> list[Notification]:
            rows = conn.execute(
                "SELECT id, voicemail_id, channel, state, attempts, last_error "
                "FROM notifications WHERE state = 'pending' ORDER BY id"
            ).fetchall()
            return [Notification(*r) for r in rows]

        return await self._writer.write(read)

    async def notification_attempt(
        self, notification_id: int, *, ok: bool, error: str | None, give_up: bool
    ) -> None:
        """Record one delivery attempt: sent, still pending, or failed for good."""
        state = "sent" if ok else ("failed" if give_up else "pending")

        def write(conn: Conn) -> None:
            conn.execute(
                "UPDATE notifications SET attempts = attempts + 1, state = ?, last_error = ?, "
                "updated_at = ? WHERE id = ?",
                (state, error, _now(), notification_id),
            )

        await self._writer.write(write)

    # --- claims: which worker is saving a job (a pool of workers on one shared store) ---

    async def claim(self, job_id: int, worker: str, lease_s: float) -> bool:
        """Take (or renew) ``worker``'s lease on one job; False while another worker holds
        a lease that has not expired (it is saving the job)."""
        now = _now()

        def write(conn: Conn) -> bool:
            cursor = conn.execute(
                "UPDATE voicemails SET claimed_by = ?, claimed_at = ? WHERE id = ? "
                "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)",
                (worker, now, job_id, worker, now - lease_s),
            )
            return cursor.rowcount > 0

        return await self._writer.write(write)

    async def claim_next(
        self, worker: str, lease_s: float, *, after_id: int = 0
    ) -> VoicemailRecord | None:
        """The oldest unfinished job after ``after_id`` that no live worker holds, claimed
        for ``worker``; None when there is none. On PostgreSQL the row is chosen ``FOR
        UPDATE SKIP LOCKED``, so two workers claiming at once never take the same job; a
        job whose lease expired (its worker died) is taken over."""
        now = _now()

        def write(conn: Conn) -> VoicemailRecord | None:
            row = conn.execute(
                "SELECT id FROM voicemails WHERE id > ? "
                "AND state NOT IN ('done', 'failed', 'empty') "
                "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?) "
                f"ORDER BY id LIMIT 1{conn.skip_locked}",
                (after_id, worker, now - lease_s),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE voicemails SET claimed_by = ?, claimed_at = ? WHERE id = ?",
                (worker, now, row[0]),
            )
            job = conn.execute(
                f"SELECT {VOICEMAIL_COLUMNS} FROM voicemails WHERE id = ?", (row[0],)
            ).fetchone()
            assert job is not None
            return voicemail_from_row(job)

        return await self._writer.write(write)

    async def release_claim(self, job_id: int, worker: str) -> None:
        """Give ``worker``'s lease on the job back (any worker may take it at once)."""
        await self._writer.write(
            lambda conn: conn.execute(
                "UPDATE voicemails SET claimed_by = NULL, claimed_at = NULL "
                "WHERE id = ? AND claimed_by = ?",
                (job_id, worker),
            )
        )
