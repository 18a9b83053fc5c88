"""Errors of voicemail saving and notification."""

from __future__ import annotations

from ari_app.errors import AriAppError, Stage


class VoicemailError(AriAppError):
    """A voicemail could not be fetched, saved or notified."""

    stage = Stage.VOICEMAIL


class RecordingNotFound(VoicemailError):
    """Asterisk has no stored recording of that name."""


class RecordingInvalid(VoicemailError):
    """The fetched audio is not a usable WAV file (header, size or duration wrong)."""


class NotifyError(VoicemailError):
    """One notification attempt failed (the notifier retries)."""
