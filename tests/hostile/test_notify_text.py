"""Caller-chosen text in notifications, and webhook verification (issue 14 #10, #18).

On 84284e2 a CR/LF in a caller id made ``EmailMessage`` raise while the mail was written,
which stopped that and every later e-mail notification (pending forever, 0 attempts);
``webhook.verify`` raised on non-ASCII input, and the body had no id to de-duplicate on.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from ari_app.store import Store
from ari_app.voicemail.email import EmailChannel
from ari_app.voicemail.notify import Notifier
from ari_app.voicemail.webhook import sign, verify, voicemail_payload

EVIL = "+15550100\r\nBcc: victim@example.com\r\nX-Evil: 1\x00\u202e"


class Mailbox:
    """An aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(message)
        return "250 OK"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Mailbox, int]]:
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(box, loop=loop), "127.0.0.1", 0)
    yield box, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _saved(store: Store, name: str, caller: str) -> int:
    job = await store.voicemails.create_job(name, call_id=None, line="main", caller=caller)
    await store.voicemails.mark_stored(
        job.id, path="/var/vm/1.wav", size_bytes=64044, duration_s=4.0, sample_rate=8000
    )
    await store.voicemails.mark_saved(
        job.id, transcript="call me back", transcript_error=None, notify_channels=("email",)
    )
    return job.id


async def test_a_crlf_caller_id_neither_blocks_nor_injects_mail(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    """Fault #10: CR/LF in a caller id blocked that and every later e-mail notification."""
    box, port = smtp
    channel = EmailChannel("127.0.0.1", port, "app@example.com", ["office@example.com"])
    async with Store(tmp_path / "s.sqlite3") as store:
        await _saved(store, "vm-evil", EVIL)
        await _saved(store, "vm-plain", "+15550199")
        notes = await Notifier(store, {"email": channel}).deliver_pending()
    assert sorted(n.state for n in notes) == ["sent", "sent"]
    assert len(box.mails) == 2
    subjects = sorted(str(m["Subject"]) for m in box.mails)
    assert subjects[0] == "Voicemail from +15550100 Bcc: victim@example.com X-Evil: 1 on main"
    for mail in box.mails:
        assert mail["Bcc"] is None
        assert mail["X-Evil"] is None
        assert "\u202e" not in mail.get_content()


def test_verify_returns_false_on_any_malformed_input() -> None:
    """Fault #18: ``verify`` raised on non-ASCII timestamps or signatures."""
    secret = b"s" * 32
    body = b'{"id": "x"}'
    good = sign(secret, "1700000000", body)
    assert verify(secret, "1700000000", body, good, now=1_700_000_100)
    for timestamp, signature in [
        ("١٧٠٠٠٠٠٠٠٠", good),  # Arabic-Indic digits: float() accepts them
        ("1700000000", "sha256=" + "é" * 64),
        ("nan", good),
        ("inf", good),
        ("1e9", good),
        ("", good),
        ("1700000000\x00", good),
    ]:
        assert verify(secret, timestamp, body, signature, now=1_700_000_100) is False


async def test_the_signed_body_carries_an_id_for_replay_protection(tmp_path: Path) -> None:
    """Fault #18: no id or nonce to de-duplicate a replay inside the 300 s window."""
    async with Store(tmp_path / "s.sqlite3") as store:
        first = await _saved(store, "vm-a", "+15550100")
        second = await _saved(store, "vm-b", "+15550100")
        vm_a = await store.reader.run(store.reader.get_voicemail, first)
        vm_b = await store.reader.run(store.reader.get_voicemail, second)
    assert vm_a is not None
    assert vm_b is not None
    a1, a2, b = (voicemail_payload(v) for v in (vm_a, vm_a, vm_b))
    assert a1["id"] == a2["id"]  # a retry carries the same id
    assert a1["id"] != b["id"]
    body = json.dumps(a1, sort_keys=True).encode()
    mac = hmac.new(b"k" * 32, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(b"k" * 32, "1700000000", body) == "sha256=" + mac  # the id is signed
