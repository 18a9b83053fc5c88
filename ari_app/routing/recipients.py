"""Who hears about a voicemail left on a line: pure, from the configuration.

Everyone named in app.yaml's ``notifications.notify``, in the line's ``voicemail.notify``,
and in the ``notify`` of every team the line hands calls to (its ``routing.targets`` and
``ai_agent.unavailable.targets``, each with its fallback chain). Each webhook and each
e-mail address is one delivery channel, named ``webhook:NAME`` or ``email:ADDRESS``, and
is told once however many places name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ari_app.config.channel import NotifyTargets
from ari_app.config.models import Config
from ari_app.routing.plan import ring_steps_for

WEBHOOK_PREFIX = "webhook:"
EMAIL_PREFIX = "email:"


@dataclass(frozen=True, slots=True)
class Recipients:
    """The webhooks and e-mail addresses told about one line's voicemails."""

    webhooks: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        """Delivery channel names, as the notifications table records them."""
        return (
            *(WEBHOOK_PREFIX + w for w in self.webhooks),
            *(EMAIL_PREFIX + e for e in self.emails),
        )

    def describe(self) -> list[str]:
        """``["e-mail office@example.org", "webhook crm"]`` for ``ari-app route``."""
        return [*(f"webhook {w}" for w in self.webhooks), *(f"e-mail {e}" for e in self.emails)]


def _teams_of(config: Config, line_name: str) -> list[str]:
    line = config.lines[line_name]
    targets = [*line.routing.targets, *(line.ai_agent.unavailable.targets or [])]
    return [s.target for s in ring_steps_for(config, targets) if s.kind == "team"]


def voicemail_recipients(config: Config, line_name: str) -> Recipients:
    """Who is told about a voicemail on ``line_name`` (nobody when notifications are off)."""
    notifications = config.app.notifications
    if not notifications.enabled or line_name not in config.lines:
        return Recipients()
    blocks: list[NotifyTargets] = [
        notifications.notify,
        config.lines[line_name].voicemail.notify,
        *(config.teams[t].notify for t in _teams_of(config, line_name)),
    ]
    webhooks = dict.fromkeys(w for b in blocks for w in b.webhooks)
    emails = dict.fromkeys(e.lower() for b in blocks for e in b.email)
    return Recipients(tuple(webhooks), tuple(emails))
