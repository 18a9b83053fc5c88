"""Voicemail notification by e-mail through SMTP (stdlib ``smtplib``, run in a thread).

The caller id is chosen by the caller: in the subject and the one-line fields it is made
header-safe (:func:`one_line`), so a CR/LF can neither inject a header nor stop the mail.
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
from email.message import EmailMessage

from ari_app.store import VoicemailRecord
from ari_app.store.models import iso
from ari_app.voicemail.errors import NotifyError
from ari_app.voicemail.webhook import audio_link

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")


def one_line(text: str, limit: int = 120) -> str:
    """``text`` fit for a mail header or a one-line field: no control, line-break or bidi
    characters (each run becomes one space), at most ``limit`` characters."""
    return " ".join(_UNSAFE.sub(" ", text).split())[:limit]


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
        caller = one_line(vm.caller or "") or "unknown caller"
        line = one_line(vm.line or "") or "-"
        msg["Subject"] = f"Voicemail from {caller} on {line}"
        duration = f"{vm.duration_s:.0f} s" if vm.duration_s is not None else "unknown"
        msg.set_content(
            f"Caller: {caller}\n"
            f"Line: {line}\n"
            f"Time: {iso(vm.recorded_at)}\n"
            f"Duration: {duration}\n"
            f"Voicemail ID: {vm.id}\n"
            f"Audio: {audio_link(self.dashboard_url, vm) or vm.path}\n\n"
            f"Transcript:\n{vm.transcript or '(none)'}\n"
        )
        return msg

    async def send(self, vm: VoicemailRecord) -> None:
        """Deliver one notification."""
        try:
            msg = self.message(vm)
        except (ValueError, TypeError) as exc:  # an attempt that fails, never a stuck queue
            raise NotifyError(f"e-mail for voicemail {vm.id} cannot be written: {exc}") from exc
        await asyncio.to_thread(self._send, msg)

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
