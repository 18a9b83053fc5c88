"""Saving voicemails so that none is ever lost.

The job row is committed before anything is fetched; then, each step committed before
the next: fetch the recording from Asterisk, write it atomically, verify it (state
``stored``), transcribe it and record caller, time, duration and transcript (``saved``),
and only then delete Asterisk's copy (``done``). A crash anywhere leaves a job that
``resume()`` finishes on the next start; every step is safe to repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from ari_app.metrics import registry as metrics
from ari_app.store import Store, VoicemailRecord, VoicemailState
from ari_app.voicemail.errors import RecordingInvalid, RecordingNotFound, VoicemailError
from ari_app.voicemail.files import has_speech, safe_name, verify_wav, write_atomic
from ari_app.voicemail.source import AsteriskListers, RecordingLister, RecordingSource
from ari_app.voicemail.transcribe import Transcriber

log = logging.getLogger(__name__)

VOICEMAIL_PREFIX = "voicemail-"
"""Asterisk recordings named so are voicemails (the call names them ``voicemail-<call>``)."""
Checkpoint = Callable[[str, VoicemailRecord], Awaitable[None]]
"""Called after each committed step (``job_written``, ``stored``, ``saved``, ``done``)."""


async def _no_checkpoint(step: str, job: VoicemailRecord) -> None:
    return None


class VoicemailSaver:
    """Runs voicemail jobs against a recording source, the store and a voicemail directory."""

    def __init__(
        self,
        store: Store,
        source: RecordingSource,
        voicemail_dir: Path,
        transcriber: Transcriber | None,
        *,
        notify_channels: tuple[str, ...] | Callable[[VoicemailRecord], tuple[str, ...]] = (),
        max_attempts: int = 5,
        checkpoint: Checkpoint | None = None,
        on_saved: Callable[[VoicemailRecord], None] | None = None,
        source_for: Callable[[VoicemailRecord], RecordingSource] | None = None,
    ) -> None:
        """``source_for`` picks each job's source (the Asterisk that recorded it, see
        :class:`~ari_app.voicemail.source.AsteriskRecordingSources`); else ``source``."""
        self._store = store
        self._source = source
        self._source_for = source_for
        self._dir = Path(voicemail_dir)
        self._transcriber = transcriber
        self._channels = notify_channels
        self._max_attempts = max_attempts
        self._checkpoint = checkpoint or _no_checkpoint
        self._on_saved = on_saved
        self._lock = asyncio.Lock()

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
        """Write the job row (``pending``): from now on the message survives a crash."""
        job = await self._store.voicemails.create_job(
            recording_name,
            call_id=call_id,
            line=line,
            caller=caller,
            recorded_at=recorded_at,
            expected_duration_s=expected_duration_s,
            asterisk_id=asterisk_id,
        )
        log.info("voicemail job %d for recording %s written", job.id, recording_name)
        await self._checkpoint("job_written", job)
        return job

    async def accept(
        self,
        recording_name: str,
        *,
        call_id: str | None,
        line: str | None,
        caller: str | None,
        recorded_at: datetime | None = None,
        expected_duration_s: float | None = None,
    ) -> VoicemailRecord:
        """A recording finished: write the job row, then save it; return the job's final row."""
        job = await self.create_job(
            recording_name,
            call_id=call_id,
            line=line,
            caller=caller,
            recorded_at=recorded_at,
            expected_duration_s=expected_duration_s,
        )
        return await self.process(job)

    async def adopt(self, lister: RecordingLister) -> list[VoicemailRecord]:
        """Jobs for voicemail recordings Asterisk holds that no job names (a crash between
        the end of a recording and its job row); recordings still being made are left."""
        adopted = []
        for name in await lister.stored_names():
            if not name.startswith(VOICEMAIL_PREFIX) or await lister.is_live(name):
                continue
            where = lister.asterisk_of(name) if isinstance(lister, AsteriskListers) else None
            job = await self._store.voicemails.adopt_recording(name, asterisk_id=where)
            if job is not None:
                log.warning("voicemail recording %s had no job: adopted as job %d", name, job.id)
                adopted.append(job)
        return adopted

    async def get(self, job_id: int) -> VoicemailRecord:
        """One job as the store's writer sees it."""
        return await self._store.voicemails.get(job_id)

    async def resume(self) -> list[VoicemailRecord]:
        """Finish every job a previous run left unfinished (call at start-up).

        In a shared store each job is first claimed (``FOR UPDATE SKIP LOCKED``): jobs
        other live workers are saving are left to them, and a dead worker's job is taken
        once its lease (``store.voicemail_lease_s``) has expired.
        """
        if self._store.shared:
            return await self._resume_claimed()
        jobs = await self._store.voicemails.unfinished()
        if jobs:
            log.warning("resuming %d unfinished voicemail job(s)", len(jobs))
        return [await self.process(job) for job in jobs]

    async def _resume_claimed(self) -> list[VoicemailRecord]:
        vm, store = self._store.voicemails, self._store
        done: list[VoicemailRecord] = []
        after = 0
        while True:
            job = await vm.claim_next(store.worker_id, store.voicemail_lease_s, after_id=after)
            if job is None:
                return done
            log.warning("voicemail job %d: resuming it (worker %s)", job.id, store.worker_id)
            done.append(await self.process(job))
            after = job.id

    async def process(self, job: VoicemailRecord) -> VoicemailRecord:
        """Carry one job forward from its committed state; transient failures are retried later.

        In a shared store the job is claimed first (a lease renewed while it is worked on
        and given back after): a job another live worker holds is left to it.
        """
        if not self._store.shared:
            return await self._process(job)
        vm, store = self._store.voicemails, self._store
        if not await vm.claim(job.id, store.worker_id, store.voicemail_lease_s):
            log.info("voicemail job %d: another worker is saving it", job.id)
            return await vm.get(job.id)
        renew = asyncio.create_task(self._renew(job.id), name=f"voicemail-lease-{job.id}")
        try:
            return await self._process(job)
        finally:
            renew.cancel()
            await asyncio.gather(renew, return_exceptions=True)
            try:
                await vm.release_claim(job.id, store.worker_id)
            except Exception as exc:  # the lease expires by itself
                log.warning("voicemail job %d: claim not given back: %s", job.id, exc)

    async def _renew(self, job_id: int) -> None:
        store = self._store
        while True:
            await asyncio.sleep(store.voicemail_lease_s / 3)
            try:
                await store.voicemails.claim(job_id, store.worker_id, store.voicemail_lease_s)
            except Exception as exc:
                log.warning("voicemail job %d: lease not renewed: %s", job_id, exc)

    async def _process(self, job: VoicemailRecord) -> VoicemailRecord:
        async with self._lock:
            try:
                await self._steps(job)
            except RecordingInvalid as exc:
                log.error("voicemail job %d: %s; Asterisk's copy is kept", job.id, exc)
                await self._store.voicemails.mark_failed(job.id, str(exc))
                metrics.VOICEMAILS.inc(result="failed")
            except (VoicemailError, OSError) as exc:
                attempts = await self._store.voicemails.get(job.id)
                # Our own disk (full, unwritable) never makes us give up: it is retried
                # periodically until it works. Asterisk refusing the recording does.
                if not isinstance(exc, OSError) and attempts.attempts >= self._max_attempts:
                    log.error(
                        "voicemail job %d gave up after %d attempts: %s",
                        job.id,
                        attempts.attempts,
                        exc,
                    )
                    await self._store.voicemails.mark_failed(job.id, str(exc))
                    metrics.VOICEMAILS.inc(result="failed")
                else:
                    log.warning("voicemail job %d will be retried: %s", job.id, exc)
                    await self._store.voicemails.note_error(job.id, str(exc))
            return await self._store.voicemails.get(job.id)

    async def _steps(self, job: VoicemailRecord) -> None:
        vm = self._store.voicemails
        await vm.count_attempt(job.id)
        state = job.state
        path = Path(job.path) if job.path else None
        if state == VoicemailState.STORED.value and (path is None or not path.exists()):
            state = VoicemailState.PENDING.value
        if state == VoicemailState.PENDING.value:
            path = await self._fetch_and_store(job)
            state = VoicemailState.STORED.value
            await self._checkpoint("stored", await vm.get(job.id))
        if state == VoicemailState.STORED.value:
            assert path is not None
            transcript, error = await self._transcribe(job, path)
            # Nothing recognised: a silent message (nobody is notified of it), unless the
            # audio is loud enough to be speech the recogniser missed (people listen).
            empty = transcript == "" and not await asyncio.to_thread(has_speech, path)
            if transcript == "" and not empty:
                transcript, error = None, "no words recognised"
            channels = self._channels(job) if callable(self._channels) else self._channels
            await vm.mark_saved(
                job.id,
                transcript=transcript,
                transcript_error=error,
                notify_channels=() if empty else channels,
            )
            state = VoicemailState.SAVED.value
            await self._checkpoint("saved", await vm.get(job.id))
        if state == VoicemailState.SAVED.value:
            try:
                await self._source_of(job).delete(job.recording_name)
            except RecordingNotFound:
                log.info("voicemail job %d: Asterisk's copy was already gone", job.id)
            saved = await vm.get(job.id)
            if saved.transcript == "" and saved.transcript_error is None:
                await vm.mark_empty(job.id)
                metrics.VOICEMAILS.inc(result="empty")
                log.info("voicemail %d holds no speech: kept, nobody notified", job.id)
            else:
                await vm.mark_done(job.id)
                metrics.VOICEMAILS.inc(result="saved")
            done = await vm.get(job.id)
            log.info("voicemail %d saved at %s (%.1f s)", job.id, done.path, done.duration_s or 0)
            if self._on_saved is not None:
                self._on_saved(done)
            await self._checkpoint("done", done)

    def _source_of(self, job: VoicemailRecord) -> RecordingSource:
        return self._source if self._source_for is None else self._source_for(job)

    async def _fetch_and_store(self, job: VoicemailRecord) -> Path:
        try:
            data = await self._source_of(job).fetch(job.recording_name)
        except RecordingNotFound as exc:
            raise RecordingInvalid(
                f"recording {job.recording_name!r} is not on Asterisk and was never saved"
            ) from exc
        path = self._dir / f"{job.id:06d}-{safe_name(job.recording_name)}.wav"
        await asyncio.to_thread(write_atomic, path, data)
        info = await asyncio.to_thread(verify_wav, path, len(data), job.expected_duration_s)
        await self._store.voicemails.mark_stored(
            job.id,
            path=str(path),
            size_bytes=info.size_bytes,
            duration_s=info.duration_s,
            sample_rate=info.sample_rate,
        )
        return path

    async def _transcribe(self, job: VoicemailRecord, path: Path) -> tuple[str | None, str | None]:
        if self._transcriber is None:
            return None, "no transcriber configured"
        audio = await asyncio.to_thread(path.read_bytes)
        try:
            return (await self._transcriber(audio)).strip(), None
        except Exception as exc:
            log.warning("voicemail job %d: transcription failed: %s", job.id, exc)
            return None, f"{type(exc).__name__}: {exc}"
