"""Voicemail notifications: signed webhooks checked by a real receiver, retries, e-mail."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ari_app.store import Store
from ari_app.store.db import Database
from ari_app.voicemail import EmailChannel, Notifier, VoicemailError, WebhookChannel, verify

SECRET = "s3cret-for-tests"


@dataclass
class Receiver:
    """A webhook receiver that checks signatures itself, with plain hmac (not our code)."""

    secret: bytes
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers["X-Ari-App-Timestamp"]
        expected = hmac.new(self.secret, f"{timestamp}.".encode() + body, hashlib.sha256)
        if request.headers.get("X-Ari-App-Signature") != "sha256=" + expected.hexdigest():
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503, text="busy")
        self.received.append(json.loads(body))
        return web.Response(status=204)


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver(SECRET.encode())
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner, port = await serve(app)
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await runner.cleanup()


async def saved_voicemail(store: Store, channels: tuple[str, ...]) -> int:
    job = await store.voicemails.create_job(
        "vm-n1", call_id=None, line="main", caller="+15550142", expected_duration_s=4
    )
    await store.voicemails.mark_stored(
        job.id, path="/var/vm/1.wav", size_bytes=64044, duration_s=4.0, sample_rate=8000
    )
    await store.voicemails.mark_saved(
        job.id, transcript="please call me back", transcript_error=None, notify_channels=channels
    )
    return job.id


async def test_webhook_is_signed_retried_and_recorded(
    store_target: Path | Database,
    tmp_path: Path,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    receiver.fail_first = 2
    delays: list[float] = []

    async def no_wait(delay: float) -> None:
        delays.append(delay)

    async with Store(store_target) as store:
        vm_id = await saved_voicemail(store, ("webhook",))
        notifier = Notifier(
            store,
            {"webhook": WebhookChannel(receiver.url, "TEST_HOOK_SECRET")},
            base_delay_s=1.0,
            max_delay_s=1.5,
            sleep=no_wait,
        )
        [note] = await notifier.deliver_pending()
    assert (note.state, note.attempts, note.last_error) == ("sent", 3, None)
    assert receiver.bad_signatures == 0
    assert len(receiver.received) == 1
    payload = receiver.received[0]
    assert payload["event"] == "voicemail.saved"
    assert payload["voicemail"]["id"] == vm_id
    assert payload["voicemail"]["caller"] == "+15550142"
    assert payload["voicemail"]["transcript"] == "please call me back"
    assert len(delays) == 2
    assert 0.9 <= delays[0] <= 1.1  # first backoff ~ base
    assert delays[1] <= 1.5 * 1.1  # capped


async def test_webhook_failure_is_recorded_after_the_last_attempt(
    store_target: Path | Database,
    tmp_path: Path,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", "not-the-receivers-secret")

    async def no_wait(delay: float) -> None:
        return None

    async with Store(store_target) as store:
        await saved_voicemail(store, ("webhook", "email"))
        notifier = Notifier(
            store,
            {"webhook": WebhookChannel(receiver.url, "TEST_HOOK_SECRET")},
            max_attempts=3,
            sleep=no_wait,
        )
        notes = await notifier.deliver_pending()
        assert await store.voicemails.pending_notifications() == []
    webhook, email = sorted(notes, key=lambda n: n.channel, reverse=True)
    assert (webhook.state, webhook.attempts) == ("failed", 3)
    assert "401" in (webhook.last_error or "")
    assert receiver.bad_signatures == 3
    assert receiver.received == []
    assert (email.state, email.last_error) == ("failed", "no email channel is configured")


def test_signature_check_rejects_tampering_and_old_timestamps() -> None:
    body = b'{"event": "voicemail.saved"}'
    now = time.time()
    ts = str(int(now))
    good = "sha256=" + hmac.new(b"k", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert verify(b"k", ts, body, good, now=now)
    assert not verify(b"k", ts, body + b" ", good, now=now)
    assert not verify(b"other", ts, body, good, now=now)
    assert not verify(b"k", ts, body, good, now=now + 3600)


def test_a_missing_secret_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET_VAR", raising=False)
    with pytest.raises(VoicemailError, match="NO_SUCH_SECRET_VAR is not set"):
        WebhookChannel("http://127.0.0.1:9/hook", "NO_SUCH_SECRET_VAR")


async def test_email_goes_through_smtp(store_target: Path | Database, tmp_path: Path) -> None:
    """A minimal SMTP server on loopback (the network boundary) receives the message."""
    messages: list[bytes] = []

    async def smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250 test\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = await reader.readuntil(b"\r\n.\r\n")
                messages.append(data[:-5])
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(smtp, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Store(store_target) as store:
            await saved_voicemail(store, ("email",))
            channel = EmailChannel("127.0.0.1", port, "desk@example.org", ["lead@example.org"])
            [note] = await Notifier(store, {"email": channel}).deliver_pending()
    finally:
        server.close()
        await server.wait_closed()
    assert note.state == "sent"
    [raw] = messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "lead@example.org"
    assert "+15550142" in mail["Subject"]
    assert "please call me back" in mail.get_payload()
