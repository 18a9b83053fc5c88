"""Voicemail: saving recordings durably, transcribing them, and notifying people.

A running app owns one :class:`VoicemailService`: ``await service.start()`` at start-up
(finishes jobs a crash left, delivers owed notifications), and on ``RecordingFinished``
of a voicemail ``await service.recording_finished(name, call_id=..., line=...,
caller=..., duration_s=recording.duration)``; ``await service.stop()`` at shutdown.
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
from ari_app.voicemail.service import VoicemailService, build_service
from ari_app.voicemail.settings import NotifySettings, build_channels
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
    "NotifySettings",
    "RecordingInvalid",
    "RecordingNotFound",
    "RecordingSource",
    "Transcriber",
    "VoicemailError",
    "VoicemailSaver",
    "VoicemailService",
    "WebhookChannel",
    "build_channels",
    "build_service",
    "sign",
    "verify",
]
