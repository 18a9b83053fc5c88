"""The voicemail step of a call: greeting, recording on Asterisk, then the confirmation.

The call only records: the moment Asterisk reports the recording finished, it emits
:class:`~ari_app.call.events.VoicemailRecorded`, before anything else happens to the call,
and the voicemail service (listening to the stream) makes the message durable and saves
it in its own worker.
"""

from __future__ import annotations

import contextlib
import secrets

from ari_app.ari.errors import AriError
from ari_app.ari.events import RecordingFailed, RecordingFinished
from ari_app.call.core import Recording
from ari_app.call.events import VoicemailRecorded, VoicemailStarted
from ari_app.call.messages import MessageSteps
from ari_app.config.models import Line
from ari_app.errors import AriAppError, Stage
from ari_app.outcomes import Outcome
from ari_app.routing.plan import VoicemailStep

SAVED_MESSAGE = "Thank you. Your message has been saved. Goodbye."
RECORDING_GRACE_S = 30.0
"""Seconds past the longest message to wait for Asterisk's RecordingFinished."""


class RecordingError(AriAppError):
    """Asterisk could not record the caller's message."""

    stage = Stage.VOICEMAIL


def recording_prefix(call_id: str) -> str:
    """How every voicemail recording of a call begins: ``voicemail-<call id, . as ->-``."""
    return f"voicemail-{call_id.replace('.', '-')}-"


def recording_name(call_id: str) -> str:
    """A fresh Asterisk recording name for a call's voicemail: never an earlier message's
    (a call taken back after a restart may record again while Asterisk's copy of its first
    message is not saved yet)."""
    return recording_prefix(call_id) + secrets.token_hex(4)


class VoicemailSteps(MessageSteps):
    """Recording a message."""

    async def _voicemail(self, line: Line, step: VoicemailStep) -> None:
        self._emit(VoicemailStarted, after_hours=step.after_hours, greeting=step.greeting)
        await self._say_message(step.greeting, step.greeting_audio, barge_in=False)
        self._pending_digit = None
        name = recording_name(self.call_id)
        # Asterisk cannot record a channel that is in a bridge: take the caller out first.
        await self.ari.remove_channel(self.bridge_id, self.call_id)
        self._recording = Recording(name)
        self.inbox.recordings.add(name)
        self._protect_recording = True
        try:
            await self.ari.record(
                self.call_id,
                name,
                format="wav",
                max_duration_seconds=step.max_seconds,
                max_silence_seconds=max(1, round(line.voicemail.silence_seconds)),
                if_exists="fail",  # never write over a message
                beep=True,
                terminate_on="#",
            )
            event = await self.inbox.wait_for(
                lambda e: (
                    isinstance(e, RecordingFinished | RecordingFailed) and e.recording.name == name
                ),
                step.max_seconds + RECORDING_GRACE_S,
            )
        finally:
            self._protect_recording = False
        if isinstance(event, RecordingFailed):
            self._recording = None
            raise RecordingError(f"voicemail recording failed: {event.recording.cause or '?'}")
        assert isinstance(event, RecordingFinished)
        self._recording.duration_s = event.recording.duration
        self.outcome = Outcome.VOICEMAIL
        # First thing once the message exists: the stream tells the voicemail service.
        self._emit(
            VoicemailRecorded,
            name=name,
            duration_s=event.recording.duration,
            line=self.line_name,
            caller=self.caller.caller.number,
            # Which Asterisk holds it: with several, its audio is fetched from that one.
            asterisk_id=str(event.envelope.raw.get("asterisk_id") or ""),
        )
        if self.inbox.caller_gone.is_set():
            return
        # The # that ended the message must not cut the confirmation short.
        self._forget_keys()
        with contextlib.suppress(AriError):
            await self.ari.add_channel(self.bridge_id, self.call_id)
            await self._say(SAVED_MESSAGE, barge_in=False, keys=False)
        await self._hang_up_caller()
