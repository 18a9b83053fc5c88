"""The voicemail service a running app owns: durable jobs from the call stream, a worker, notify.

Notifications are delivered by one background task (retries with backoff live there),
so a slow webhook never holds up a call. Stopping cancels it; what was not delivered
stays ``pending`` in the store and is delivered after the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ari_app.call.events import CallEvent, VoicemailRecorded
from ari_app.store import Store, VoicemailRecord
from ari_app.store.errors import is_transient
from ari_app.voicemail.notify import ChannelSource, Notifier
from ari_app.voicemail.saver import VoicemailSaver
from ari_app.voicemail.settings import NotifySettings, build_channels
from ari_app.voicemail.source import (
    AriRecordingSource,
    AsteriskListers,
    AsteriskRecordingSources,
    RecordingLister,
)
from ari_app.voicemail.transcribe import Transcriber

if TYPE_CHECKING:
    from ari_app.ari.client import AriClient

log = logging.getLogger(__name__)
RETRY_S = 60.0
"""Seconds between sweeps that retry unfinished jobs (and adopt orphaned recordings)."""
FIRST_RETRY_S = 0.05


class VoicemailService:
    """Owns a saver, its worker, an optional notifier and the task that delivers notifications.

    Listening to the call event stream (:meth:`on_call_event`), it writes a voicemail's
    durable job row the moment the call reports the recording finished, and saves it
    (fetch, verify, transcribe, delete Asterisk's copy) in its own worker, outside the
    call. Jobs that fail for a passing reason (a full disk, Asterisk unreachable) are
    retried every ``retry_s`` seconds, not only at the next start.
    """

    def __init__(
        self,
        saver: VoicemailSaver,
        notifier: Notifier | None,
        *,
        lister: RecordingLister | None = None,
        retry_s: float = RETRY_S,
    ) -> None:
        self.saver = saver
        self.notifier = notifier
        self.lister = lister
        self.retry_s = retry_s
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._jobs: asyncio.Queue[int] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._accepting: set[asyncio.Task[None]] = set()
        self._working = asyncio.Event()
        self._working.set()

    async def start(self, *, wait: bool = True) -> list[VoicemailRecord]:
        """Start the worker; it first adopts recordings Asterisk holds without a job and
        finishes jobs left by a previous run. ``wait``: do that first and return them
        (``wait=False``: in the background, so calls are taken at once)."""
        resumed = await self._catch_up() if wait else []
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(not wait), name="voicemail-worker")
        self._kick()
        return resumed

    def on_call_event(self, event: CallEvent) -> None:
        """A call event listener: a finished recording becomes a durable job at once."""
        if not isinstance(event, VoicemailRecorded):
            return
        task = asyncio.create_task(self._accept(event), name=f"voicemail-job-{event.name}")
        self._accepting.add(task)
        task.add_done_callback(self._accepting.discard)

    async def _accept(self, event: VoicemailRecorded) -> None:
        delay = FIRST_RETRY_S
        while True:
            try:
                job = await self.saver.create_job(
                    event.name,
                    call_id=event.call_id,
                    line=event.line,
                    caller=event.caller,
                    expected_duration_s=event.duration_s,
                    asterisk_id=event.asterisk_id or None,
                )
                break
            except Exception as exc:
                if not is_transient(exc):
                    # The recording stays on Asterisk: the next sweep or start adopts it.
                    log.exception("voicemail %s: job row not written", event.name)
                    return
                log.warning("voicemail %s: store busy (%s); retrying", event.name, exc)
            await asyncio.sleep(delay)
            delay = min(self.retry_s, delay * 2)
        self._jobs.put_nowait(job.id)

    async def recording_finished(
        self,
        recording_name: str,
        *,
        call_id: str | None,
        line: str | None,
        caller: str | None,
        recorded_at: datetime | None = None,
        duration_s: float | None = None,
    ) -> VoicemailRecord:
        """Save a finished voicemail recording now (write the job, process it) and notify."""
        job = await self.saver.accept(
            recording_name,
            call_id=call_id,
            line=line,
            caller=caller,
            recorded_at=recorded_at,
            expected_duration_s=duration_s,
        )
        self._kick()
        return job

    async def wait_idle(self) -> None:
        """Wait until every job handed over is processed and no notification delivery is
        running (for orderly shutdown and tests)."""
        while True:
            if self._accepting:
                await asyncio.gather(*self._accepting, return_exceptions=True)
                continue
            worker_up = self._worker is not None and not self._worker.done()
            if not self._working.is_set():
                await self._working.wait()
            elif worker_up and not self._jobs.empty():
                await asyncio.sleep(0)  # the worker is about to take the next job
            else:
                break
        await self._idle.wait()

    async def stop(self) -> None:
        """Write the job rows still being written, then stop; unfinished jobs and
        undelivered notifications stay in the store for the next start."""
        if self._accepting:
            await asyncio.gather(*self._accepting, return_exceptions=True)
        for name in ("_worker", "_task"):
            task = getattr(self, name)
            setattr(self, name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._idle.set()
        self._working.set()

    async def _catch_up(self) -> list[VoicemailRecord]:
        if self.lister is not None:
            try:
                await self.saver.adopt(self.lister)
            except Exception:
                log.exception("cannot reconcile with Asterisk's stored recordings")
        resumed = await self.saver.resume()
        self._kick()
        return resumed

    async def _work(self, catch_up: bool) -> None:
        if catch_up:
            self._working.clear()
            try:
                await self._catch_up()
            except Exception:
                log.exception("voicemail catch-up failed; retried in %.0f s", self.retry_s)
        while True:
            self._working.set()
            job_id: int | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.retry_s):  # not wait_for: it may eat a cancel
                    job_id = await self._jobs.get()
            self._working.clear()
            try:
                if job_id is not None:
                    await self.saver.process(await self.saver.get(job_id))
                else:
                    await self._catch_up()  # the periodic retry of jobs that failed
            except Exception:
                log.exception("voicemail worker: will retry in %.0f s", self.retry_s)
            self._kick()

    def _kick(self) -> None:
        if self.notifier is None:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._idle.clear()
        self._task = asyncio.create_task(self._deliver(), name="voicemail-notify")

    async def _deliver(self) -> None:
        assert self.notifier is not None
        try:
            while True:
                self._again = False
                try:
                    await self.notifier.deliver_pending()
                except Exception:
                    log.exception("voicemail notification delivery failed")
                if not self._again:
                    break
        finally:
            self._idle.set()


def build_service(
    store: Store,
    client: AriClient,
    voicemail_dir: Path,
    transcriber: Transcriber | None,
    notify: NotifySettings | None = None,
    *,
    channels: ChannelSource | None = None,
    recipients: Callable[[VoicemailRecord], tuple[str, ...]] | None = None,
    asterisks: Mapping[str, AriClient] | None = None,
) -> VoicemailService:
    """The service wired to ARI's stored recordings and the configured notification channels.

    ``asterisks``: HTTP ARI clients by ``asterisk_id`` or system name (outbound mode, many
    Asterisks): each voicemail is fetched from and deleted on the Asterisk that recorded
    it; ``client`` serves the rest.

    ``channels`` and ``recipients`` (from :class:`~ari_app.voicemail.configured.ConfiguredChannels`)
    replace ``notify``'s fixed channels: each voicemail then owes notifications to its own
    line's and teams' recipients.
    """
    settings = notify or NotifySettings()
    notifier = Notifier(
        store,
        channels if channels is not None else build_channels(settings),
        max_attempts=settings.max_attempts,
        base_delay_s=settings.base_delay_s,
        max_delay_s=settings.max_delay_s,
    )
    default = AriRecordingSource(client)
    mapped = {key: AriRecordingSource(c) for key, c in (asterisks or {}).items()}
    sources = AsteriskRecordingSources(default, mapped)
    saver = VoicemailSaver(
        store,
        default,
        voicemail_dir,
        transcriber,
        notify_channels=recipients or notifier.channel_names,
        source_for=sources,
    )
    # Recordings left without a job are looked for on every Asterisk (the listed ones
    # first, so each adopted job remembers its own), then at ari.url.
    listers: dict[str | None, AriRecordingSource] = dict(mapped.items())
    listers[None] = AriRecordingSource(client)
    return VoicemailService(saver, notifier, lister=AsteriskListers(listers))
