"""Calling-channel settings: when the AI agent cannot take a call, recorded messages, notifications.

Pieces of the schema in :mod:`ari_app.config.models` that describe how a line behaves when
its AI agent is unavailable (``ai_agent.unavailable``, ``ai_agent.max_calls``), which
recorded audio replaces a synthesised greeting (``*_audio`` keys), and who is told about
a voicemail (``notify`` on a line, a team, or every line in app.yaml). References between
files and to the environment are checked in :mod:`ari_app.config.channel_checks`.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

SOUND_PREFIX = "sound:"
"""An Asterisk sound (``sound:custom/closed``), played by Asterisk from its sounds folder."""
_SOUND = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_NAME = r"^[A-Za-z0-9_.-]+$"

ChannelName = Annotated[str, Field(min_length=1, pattern=_NAME)]
EnvName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
"""The name of an environment variable (the value, a secret, never appears in YAML)."""


def parse_audio(value: object) -> str:
    """Check a recorded message reference: a WAV file under the config folder or a sound.

    ``sounds/closed.wav`` is a file relative to the config directory (no ``..``, not
    absolute); ``sound:custom/closed`` is an Asterisk sound name without extension.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            'a recorded message is a WAV file like "sounds/closed.wav" or an Asterisk sound '
            f'like "sound:custom/closed", got {value!r}'
        )
    text = value.strip()
    if text.startswith(SOUND_PREFIX):
        name = text.removeprefix(SOUND_PREFIX)
        if not _SOUND.match(name):
            raise ValueError(
                f"{text!r} is not an Asterisk sound name; write it without extension, like "
                '"sound:custom/closed" (letters, digits, _ and - between slashes)'
            )
        return text
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or "\\" in text:
        raise ValueError(
            f'{text!r} must be a path inside the config directory, like "sounds/closed.wav"'
        )
    if path.suffix.lower() != ".wav":
        raise ValueError(f"{text!r} is not a .wav file (or use sound:NAME for an Asterisk sound)")
    return text


def parse_email(value: object) -> str:
    """Check a plain e-mail address (``frontdesk@example.org``)."""
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value.strip()


AudioFile = Annotated[str, BeforeValidator(parse_audio)]
EmailAddress = Annotated[str, BeforeValidator(parse_email)]


class ChannelModel(BaseModel):
    """Like every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


# --- lines.yaml and people.yaml -------------------------------------------------------


class AiUnavailable(ChannelModel):
    """Where a call goes when the line's AI agent cannot take it (off, at capacity, models
    failed, knowledge base broken, app draining): in hours these people ring, then
    voicemail; after hours straight to voicemail."""

    targets: list[ChannelName] | None = None
    """Users or teams rung in hours; default: the line's ``routing.targets``."""


class NotifyTargets(ChannelModel):
    """Who hears about a voicemail: named webhooks (defined in app.yaml) and e-mail addresses."""

    webhooks: list[ChannelName] = []
    email: list[EmailAddress] = []

    @property
    def empty(self) -> bool:
        """True when nobody is named."""
        return not self.webhooks and not self.email


# --- app.yaml -------------------------------------------------------------------------


class AiLimits(ChannelModel):
    """app.yaml ``ai_agent``: limits on the AI agent across all lines."""

    max_calls: PositiveInt | None = None
    """Calls the AI agent talks with at once, all lines together (None: no limit). A call
    over the limit takes the line's ``ai_agent.unavailable`` branch."""


class SmtpSettings(ChannelModel):
    """The mail server voicemail e-mails go through."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    starttls: bool = False
    username: str | None = None
    password_env: EnvName | None = None
    """Environment variable holding the SMTP password (with ``username``)."""
    sender: EmailAddress = Field(alias="from")
    timeout: PositiveFloat = 15.0
    """Seconds one delivery attempt may take."""

    @model_validator(mode="after")
    def _login_complete(self) -> Self:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("give both 'username' and 'password_env' to log in, or neither")
        return self


class WebhookTarget(ChannelModel):
    """A URL that receives a signed JSON POST for every voicemail it is named for."""

    url: Annotated[str, Field(pattern=r"^https?://")]
    secret_env: EnvName
    """Environment variable holding the HMAC-SHA256 signing secret."""
    retries: Annotated[int, Field(ge=0, le=20)] = 5
    """Further attempts after a failed delivery (with backoff)."""
    timeout: PositiveFloat = 10.0


class Notifications(ChannelModel):
    """app.yaml ``notifications``: how voicemail notifications are delivered."""

    enabled: bool = True
    """False: voicemails are saved but nobody is notified (the simulation turns this off)."""
    smtp: SmtpSettings | None = None
    webhooks: dict[ChannelName, WebhookTarget] = {}
    retries: Annotated[int, Field(ge=0, le=20)] = 5
    """Further attempts after a failed e-mail delivery."""
    notify: NotifyTargets = NotifyTargets()
    """Told about every voicemail on every line (lines and teams add their own)."""
    dashboard_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    """Base URL of the dashboard; notifications then link to ``/voicemails/ID/audio``."""
