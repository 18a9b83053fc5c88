"""Voicemail: saving recordings durably, transcribing them, and notifying people.

At start-up: ``await saver.resume()`` then ``await notifier.deliver_pending()``.
When a voicemail recording finishes (``RecordingFinished``):
``await saver.accept(name, call_id=..., line=..., caller=..., expected_duration_s=...)``.
"""

from ari_app.voicemail.email import EmailChannel
from ari_app.voicemail.errors import (
    NotifyError,
    RecordingInvalid,
    RecordingNotFound,
    VoicemailError,
)
from ari_app.voicemail.notify import Channel, Notifier
from ari_app.voicemail.saver import VoicemailSaver
from ari_app.voicemail.source import AriRecordingSource, RecordingSource
from ari_app.voicemail.transcribe import EngineTranscriber, Transcriber
from ari_app.voicemail.webhook import WebhookChannel, sign, verify

__all__ = [
    "AriRecordingSource",
    "Channel",
    "EmailChannel",
    "EngineTranscriber",
    "Notifier",
    "NotifyError",
    "RecordingInvalid",
    "RecordingNotFound",
    "RecordingSource",
    "Transcriber",
    "VoicemailError",
    "VoicemailSaver",
    "WebhookChannel",
    "sign",
    "verify",
]
