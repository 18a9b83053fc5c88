"""Voicemail: saving recordings durably, transcribing them, and notifying people.

A running app owns one :class:`VoicemailService`: ``await service.start(wait=False)`` at
start-up (its worker adopts recordings Asterisk holds without a job, finishes jobs a
crash left, delivers owed notifications), ``service.on_call_event`` listens to the call
event stream (a ``VoicemailRecorded`` becomes a durable job at once, saved by the
worker), and ``await service.stop()`` at shutdown. ``recording_finished(...)`` saves one
recording directly (tools, tests).
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
