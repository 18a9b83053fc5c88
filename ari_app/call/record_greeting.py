"""Recording a greeting by phone: ARI rings the administrator's phone, records after the
beep until ``#``, silence or hang-up, and the WAV lands in the config's sounds folder.

It uses its own Stasis application (``<ari.app>-greetings``), so a running ``ari-app run``
never sees the call, and it works whether or not Asterisk shares a disk with us: the
recording is fetched over ARI (``/recordings/stored/{name}/file``), checked like every
recorded message (:func:`~ari_app.config.channel_checks.wav_problem`), written atomically,
and Asterisk's copy deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.ari.events import (
    AriEvent,
    ChannelDestroyed,
    RecordingFailed,
    RecordingFinished,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.config.channel_checks import wav_problem
from ari_app.errors import AriAppError, Stage
from ari_app.voicemail.files import write_atomic

APP_SUFFIX = "-greetings"
"""Appended to ``ari.app`` for the Stasis application the recording call runs in."""


class GreetingError(AriAppError):
    """The greeting could not be recorded (nobody answered, Asterisk refused, bad audio)."""

    stage = Stage.CALL


@dataclass(frozen=True, slots=True)
class RecordedGreeting:
    """A greeting saved into the config directory."""

    path: Path
    duration_s: float


class _Events:
    """ARI events of the recording call, waited for by predicate."""

    def __init__(self) -> None:
        self.seen: list[AriEvent] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: AriEvent) -> None:
        self.seen.append(event)
        self._changed.set()

    async def wait(self, match: Callable[[AriEvent], bool], within: float) -> AriEvent:
        async with asyncio.timeout(within):
            checked = 0
            while True:
                for event in self.seen[checked:]:
                    if match(event):
                        return event
                checked = len(self.seen)
                self._changed.clear()
                await self._changed.wait()


async def record_greeting(
    client: AriClient,
    endpoint: str,
    target: Path,
    config_dir: Path,
    *,
    max_seconds: int = 60,
    silence_seconds: int = 5,
    answer_within: float = 60.0,
) -> RecordedGreeting:
    """Ring ``endpoint``, record a greeting and save it at ``target`` (inside ``config_dir``).

    ``client`` must be made for the greetings application (``<ari.app>-greetings``).
    """
    events = _Events()
    listener = EventListener(client, events)
    await listener.start()
    channel_id = f"greeting-{uuid.uuid4().hex[:12]}"
    name = f"ari-app-greeting-{uuid.uuid4().hex[:12]}"
    try:
        async with asyncio.timeout(10):
            await listener.connected.wait()
        await client.originate(
            endpoint,
            app=client.app,
            app_args="record-greeting",
            channel_id=channel_id,
            caller_id='"Record greeting" <0>',
            ring_timeout=round(answer_within),
        )

        def answered_or_gone(e: AriEvent) -> bool:
            return isinstance(e, StasisStart | ChannelDestroyed) and e.channel.id == channel_id

        try:
            first = await events.wait(answered_or_gone, answer_within + 5)
        except TimeoutError:
            raise GreetingError(f"{endpoint} did not answer within {answer_within:g} s") from None
        if isinstance(first, ChannelDestroyed):
            raise GreetingError(f"{endpoint} did not answer ({first.cause_txt or first.cause})")
        await client.record(
            channel_id,
            name,
            "wav",
            max_duration_seconds=max_seconds,
            max_silence_seconds=silence_seconds,
            if_exists="overwrite",
            beep=True,
            terminate_on="#",
        )
        done = await events.wait(
            lambda e: (
                isinstance(e, RecordingFinished | RecordingFailed) and e.recording.name == name
            ),
            max_seconds + 30,
        )
        if isinstance(done, RecordingFailed):
            raise GreetingError(f"Asterisk could not record: {done.recording.cause or 'failed'}")
        data = await client.get_stored_recording_file(name)
        await asyncio.to_thread(write_atomic, target, data)
        problem = wav_problem(config_dir, str(target.relative_to(config_dir)))
        if problem is not None:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise GreetingError(problem)
        with contextlib.suppress(AriError):
            await client.delete_stored_recording(name)
        assert isinstance(done, RecordingFinished)
        return RecordedGreeting(target, float(done.recording.duration))
    finally:
        with contextlib.suppress(AriError):
            await client.hangup(channel_id)
        await listener.stop()
