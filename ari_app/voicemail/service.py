"""The voicemail service a running app owns: resume at start, save each recording, notify.

Notifications are delivered by one background task (retries with backoff live there),
so a slow webhook never holds up a call. Stopping cancels it; what was not delivered
stays ``pending`` in the store and is delivered after the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ari_app.store import Store, VoicemailRecord
from ari_app.voicemail.notify import ChannelSource, Notifier
from ari_app.voicemail.saver import VoicemailSaver
from ari_app.voicemail.settings import NotifySettings, build_channels
from ari_app.voicemail.source import AriRecordingSource
from ari_app.voicemail.transcribe import Transcriber

if TYPE_CHECKING:
    from ari_app.ari.client import AriClient

log = logging.getLogger(__name__)


class VoicemailService:
    """Owns a saver and an optional notifier, and the task that delivers notifications."""

    def __init__(self, saver: VoicemailSaver, notifier: Notifier | None) -> None:
        self.saver = saver
        self.notifier = notifier
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> list[VoicemailRecord]:
        """Finish jobs left by a previous run and start delivering owed notifications."""
        resumed = await self.saver.resume()
        self._kick()
        return resumed

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
        """Save a finished voicemail recording (``RecordingFinished``) and notify about it."""
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
        """Wait until no notification delivery is running (for orderly shutdown and tests)."""
        await self._idle.wait()

    async def stop(self) -> None:
        """Cancel delivery; undelivered notifications stay pending for the next start."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._idle.set()

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
) -> VoicemailService:
    """The service wired to ARI's stored recordings and the configured notification channels.

    ``channels`` and ``recipients`` (from
    :class:`~ari_app.voicemail.configured.ConfiguredChannels`) replace ``notify``'s fixed
    channels: each voicemail then owes notifications to its own line's and teams' recipients.
    """
    settings = notify or NotifySettings()
    notifier = Notifier(
        store,
        channels if channels is not None else build_channels(settings),
        max_attempts=settings.max_attempts,
        base_delay_s=settings.base_delay_s,
        max_delay_s=settings.max_delay_s,
    )
    saver = VoicemailSaver(
        store,
        AriRecordingSource(client),
        voicemail_dir,
        transcriber,
        notify_channels=recipients or notifier.channel_names,
    )
    return VoicemailService(saver, notifier)
