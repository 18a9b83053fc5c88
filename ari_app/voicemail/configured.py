"""Voicemail notification channels from the configuration in force (app.yaml, lines, teams).

:class:`ConfiguredChannels` gives the notifier a channel for each name the notifications
table holds — ``webhook:NAME`` (a webhook of app.yaml's ``notifications.webhooks``) or
``email:ADDRESS`` (one e-mail through ``notifications.smtp``) — built from the
configuration in force when it is first needed, so a reload (SIGHUP) that adds a webhook
or an address takes effect without a restart. :meth:`ConfiguredChannels.recipients` says
which channels a saved voicemail owes (see :mod:`ari_app.routing.recipients`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ari_app.config.models import Config
from ari_app.routing.recipients import EMAIL_PREFIX, WEBHOOK_PREFIX, voicemail_recipients
from ari_app.store import VoicemailRecord
from ari_app.voicemail.email import EmailChannel
from ari_app.voicemail.errors import VoicemailError
from ari_app.voicemail.notify import Channel
from ari_app.voicemail.webhook import WebhookChannel


class ConfiguredChannels:
    """Channels by name, built on first use from ``config()`` and kept per configuration."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config
        self._built_for: Config | None = None
        self._built: dict[str, Channel] = {}

    def __iter__(self) -> Iterator[str]:
        """Every channel name the configuration in force can notify."""
        config = self._config()
        seen: dict[str, None] = {}
        for line in config.lines:
            seen.update(dict.fromkeys(voicemail_recipients(config, line).channels))
        return iter(seen)

    def recipients(self, vm: VoicemailRecord) -> tuple[str, ...]:
        """The channels a saved voicemail owes notifications on."""
        return voicemail_recipients(self._config(), vm.line or "").channels

    def get(self, name: str) -> Channel | None:
        """The channel called ``name``, or None when the configuration no longer has it."""
        config = self._config()
        if config is not self._built_for:  # a reload: build from the new configuration
            self._built_for, self._built = config, {}
        channel = self._built.get(name)
        if channel is None:
            channel = self._build(config, name)
            if channel is not None:
                self._built[name] = channel
        return channel

    @staticmethod
    def _build(config: Config, name: str) -> Channel | None:
        notifications = config.app.notifications
        link = notifications.dashboard_url
        if name.startswith(WEBHOOK_PREFIX):
            hook = notifications.webhooks.get(name.removeprefix(WEBHOOK_PREFIX))
            if hook is None:
                return None
            try:
                return WebhookChannel(
                    hook.url,
                    hook.secret_env,
                    timeout_s=hook.timeout,
                    max_attempts=hook.retries + 1,
                    dashboard_url=link,
                )
            except VoicemailError:
                return None  # the secret went missing since check-config: reported as failed
        smtp = notifications.smtp
        if name.startswith(EMAIL_PREFIX) and smtp is not None:
            return EmailChannel(
                smtp.host,
                smtp.port,
                smtp.sender,
                [name.removeprefix(EMAIL_PREFIX)],
                username=smtp.username,
                password_env=smtp.password_env,
                starttls=smtp.starttls,
                timeout_s=smtp.timeout,
                max_attempts=notifications.retries + 1,
                dashboard_url=link,
                name=name,
            )
        return None
