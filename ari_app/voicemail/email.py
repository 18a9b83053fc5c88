"""Voicemail notification by e-mail through SMTP (stdlib ``smtplib``, run in a thread)."""

from __future__ import annotations

import asyncio
import os
import smtplib
from email.message import EmailMessage

from ari_app.store import VoicemailRecord
from ari_app.store.models import iso
from ari_app.voicemail.errors import NotifyError
from ari_app.voicemail.webhook import audio_link


class EmailChannel:
    """Sends a plain-text e-mail with the caller, time, duration and transcript."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        *,
        username: str | None = None,
        password_env: str | None = None,
        starttls: bool = False,
        timeout_s: float = 15.0,
        max_attempts: int | None = None,
        dashboard_url: str | None = None,
        name: str = "email",
    ) -> None:
        self.name = name
        """The channel's name in the notifications table (``email:ADDRESS`` from config)."""
        self.max_attempts = max_attempts
        """Attempts before giving up (None: the notifier's default)."""
        self.dashboard_url = dashboard_url
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = list(recipients)
        self.username = username
        self._password_env = password_env
        self.starttls = starttls
        self.timeout_s = timeout_s

    def message(self, vm: VoicemailRecord) -> EmailMessage:
        """The e-mail for one voicemail."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Subject"] = f"Voicemail from {vm.caller or 'unknown caller'} on {vm.line or '-'}"
        duration = f"{vm.duration_s:.0f} s" if vm.duration_s is not None else "unknown"
        msg.set_content(
            f"Caller: {vm.caller or 'unknown'}\n"
            f"Line: {vm.line or '-'}\n"
            f"Time: {iso(vm.recorded_at)}\n"
            f"Duration: {duration}\n"
            f"Voicemail ID: {vm.id}\n"
            f"Audio: {audio_link(self.dashboard_url, vm) or vm.path}\n\n"
            f"Transcript:\n{vm.transcript or '(none)'}\n"
        )
        return msg

    async def send(self, vm: VoicemailRecord) -> None:
        """Deliver one notification."""
        await asyncio.to_thread(self._send, self.message(vm))

    def _send(self, msg: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    password = os.environ.get(self._password_env or "", "")
                    smtp.login(self.username, password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"e-mail via {self.host}:{self.port}: {exc}") from exc
