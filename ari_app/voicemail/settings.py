"""Settings of voicemail notification (webhook, e-mail) and building their channels.

Secrets are never here: the webhook secret and the SMTP password come from the
environment variables these settings name.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from ari_app.voicemail.email import EmailChannel
from ari_app.voicemail.notify import Channel
from ari_app.voicemail.webhook import WebhookChannel


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookSettings(_Model):
    """POST a signed JSON notification to ``url`` for every saved voicemail."""

    url: Annotated[str, Field(pattern=r"^https?://")]
    secret_env: Annotated[str, Field(min_length=1)] = "ARI_APP_WEBHOOK_SECRET"
    """Environment variable holding the HMAC-SHA256 secret."""
    timeout_s: PositiveFloat = 10.0


class EmailSettings(_Model):
    """Send an e-mail through an SMTP server for every saved voicemail."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    sender: Annotated[str, Field(min_length=3)]
    recipients: Annotated[list[str], Field(min_length=1)]
    username: str | None = None
    password_env: str | None = None
    """Environment variable holding the SMTP password (with ``username``)."""
    starttls: bool = False


class NotifySettings(_Model):
    """Who hears about new voicemails, and how hard we try."""

    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None
    max_attempts: PositiveInt = 6
    base_delay_s: PositiveFloat = 2.0
    max_delay_s: PositiveFloat = 300.0


def build_channels(settings: NotifySettings) -> dict[str, Channel]:
    """The configured channels by name (raises VoicemailError if a secret is missing)."""
    channels: dict[str, Channel] = {}
    if settings.webhook is not None:
        hook = settings.webhook
        channels["webhook"] = WebhookChannel(hook.url, hook.secret_env, timeout_s=hook.timeout_s)
    if settings.email is not None:
        mail = settings.email
        channels["email"] = EmailChannel(
            mail.host,
            mail.port,
            mail.sender,
            mail.recipients,
            username=mail.username,
            password_env=mail.password_env,
            starttls=mail.starttls,
        )
    return channels
