"""Delivering owed voicemail notifications with capped exponential backoff; results recorded."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

from ari_app.metrics import registry as metrics
from ari_app.store import Notification, Store, VoicemailRecord
from ari_app.voicemail.errors import NotifyError

log = logging.getLogger(__name__)


class Channel(Protocol):
    """A way to tell people about a voicemail."""

    name: str

    async def send(self, vm: VoicemailRecord) -> None:
        """Deliver one notification; raise NotifyError on failure."""


class ChannelSource(Iterable[str], Protocol):
    """Channels by name, looked up when a notification is delivered (e.g. from the
    configuration in force, see :mod:`ari_app.voicemail.configured`)."""

    def get(self, name: str) -> Channel | None:
        """The channel called ``name``, or None."""


def backoff_delay(attempt: int, base_s: float, cap_s: float, jitter: float = 0.1) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), capped, with jitter."""
    delay: float = min(cap_s, base_s * 2.0 ** (attempt - 1))
    return delay * (1.0 - jitter + 2.0 * jitter * random.random())


class Notifier:
    """Sends every pending notification row through its channel, retrying with backoff."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel] | ChannelSource,
        *,
        max_attempts: int = 6,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._channels: Mapping[str, Channel] | ChannelSource = (
            dict(channels) if isinstance(channels, Mapping) else channels
        )
        self._max_attempts = max_attempts
        self._base = base_delay_s
        self._cap = max_delay_s
        self._sleep = sleep
        self._lock = asyncio.Lock()

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Names to pass to the saver as ``notify_channels``."""
        return tuple(self._channels)

    async def deliver_pending(self) -> list[Notification]:
        """Deliver (or give up on) every pending notification; return their final rows."""
        async with self._lock:
            for note in await self._store.voicemails.pending_notifications():
                await self._deliver(note)
            done = await self._store.reader.run(self._store.reader.query, _ALL_NOTIFICATIONS)
            return [Notification(*row) for row in done]

    async def _deliver(self, note: Notification) -> None:
        channel = self._channels.get(note.channel)
        vm = await self._store.voicemails.get(note.voicemail_id)
        attempt = note.attempts
        while True:
            attempt += 1
            if channel is None:
                error: str | None = f"no {note.channel} channel is configured"
                ok = False
            else:
                try:
                    await channel.send(vm)
                    ok, error = True, None
                except NotifyError as exc:
                    ok, error = False, str(exc)
            limit = getattr(channel, "max_attempts", None) or self._max_attempts
            give_up = not ok and (attempt >= limit or channel is None)
            await self._store.voicemails.notification_attempt(
                note.id, ok=ok, error=error, give_up=give_up
            )
            if ok:
                metrics.NOTIFICATIONS.inc(channel=_kind(note.channel), result="sent")
                log.info("voicemail %d: %s notification sent", vm.id, note.channel)
                return
            if give_up:
                metrics.NOTIFICATIONS.inc(channel=_kind(note.channel), result="failed")
                log.error(
                    "voicemail %d: %s notification failed for good after %d attempt(s): %s",
                    vm.id,
                    note.channel,
                    attempt,
                    error,
                )
                return
            delay = backoff_delay(attempt, self._base, self._cap)
            log.warning(
                "voicemail %d: %s notification attempt %d failed (%s); retry in %.1f s",
                vm.id,
                note.channel,
                attempt,
                error,
                delay,
            )
            await self._sleep(delay)


def _kind(channel: str) -> str:
    """``email:office@example.org`` -> ``email`` (metric labels stay few)."""
    return channel.partition(":")[0]


_ALL_NOTIFICATIONS = (
    "SELECT id, voicemail_id, channel, state, attempts, last_error FROM notifications ORDER BY id"
)
