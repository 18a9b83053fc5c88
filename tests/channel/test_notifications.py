"""Voicemail notifications set in YAML reach a local webhook receiver and a local SMTP
server, with the transcript, caller, line, duration and a link to the audio.

Real parts throughout: the configuration loaded from files, the store (SQLite), the
recording fetched from the fake Asterisk through the ARI client, pocketsphinx transcribing
it, aiohttp receiving the signed webhook, aiosmtpd receiving the e-mails.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from ari_app.ari.client import AriClient
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.config import Config, load_config
from ari_app.store import Store
from ari_app.testing.audio import wav_bytes
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.voicemail import EngineTranscriber, build_service
from ari_app.voicemail.configured import ConfiguredChannels

SAMPLE = Path(__file__).resolve().parents[2] / "config"
SECRET = "webhook-secret-for-tests-0123456789"
MESSAGE = "Hello, this is Sam Baker. Please call me back about my appointment."


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every message it is given."""

    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class Hook:
    """A webhook receiver that checks the signature with plain hmac (not our code)."""

    status: int = 204
    bodies: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.read()
        stamp = request.headers["X-Ari-App-Timestamp"]
        digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        if request.headers["X-Ari-App-Signature"] != "sha256=" + digest.hexdigest():
            return web.Response(status=401)
        if self.status < 300:
            self.bodies.append(json.loads(body))
        return web.Response(status=self.status)


@dataclass
class Receivers:
    hook: Hook
    mailbox: Mailbox
    hook_port: int
    smtp_port: int


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    hook, mailbox = Hook(), Mailbox()
    app = web.Application()
    app.router.add_post("/voicemail", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(mailbox, loop=loop), "127.0.0.1", 0)
    yield Receivers(
        hook, mailbox, int(runner.addresses[0][1]), int(smtp.sockets[0].getsockname()[1])
    )
    smtp.close()
    await smtp.wait_closed()
    await runner.cleanup()


def configured(tmp_path: Path, receivers: Receivers, retries: int = 2) -> Config:
    """The sample config with app.yaml's notifications aimed at the local receivers."""
    root = tmp_path / "config"
    shutil.copytree(SAMPLE, root)
    app = root / "app.yaml"
    text = app.read_text()
    app.write_text(
        text[: text.index("notifications:")]
        + f"""notifications:
  smtp:
    host: 127.0.0.1
    port: {receivers.smtp_port}
    from: voicemail@harbourlight.example
  retries: 0
  dashboard_url: https://pbx.harbourlight.example:8089/
  webhooks:
    practice_crm:
      url: http://127.0.0.1:{receivers.hook_port}/voicemail
      secret_env: HARBOUR_WEBHOOK_SECRET
      retries: {retries}
  notify:
    webhooks: [practice_crm]
"""
    )
    return load_config(root)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    pbx = FakeAsterisk(recordings_dir=tmp_path / "asterisk-recordings")
    await pbx.start()
    yield pbx
    await pbx.stop()


async def leave_message(fake: FakeAsterisk, tmp_path: Path, name: str) -> None:
    """Asterisk holds a recorded message (real synthesised speech at 8 kHz)."""
    voice = EspeakSynthesizer(
        VoiceSettings(voice="en-us", rate_wpm=150, sample_rate=8000), tmp_path / "tts"
    )
    pcm = await voice.synthesize(MESSAGE)
    stored = fake.recording_path(name, "wav")
    await asyncio.to_thread(stored.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(stored.write_bytes, wav_bytes(pcm, 8000))


async def test_voicemail_notifies_webhook_and_email_from_yaml(
    tmp_path: Path,
    fake: FakeAsterisk,
    receivers: Receivers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARBOUR_WEBHOOK_SECRET", SECRET)
    config = configured(tmp_path, receivers)
    channels = ConfiguredChannels(lambda: config)
    transcriber = EngineTranscriber(await asyncio.to_thread(PocketsphinxEngine))
    async with (
        AriClient(fake.ari_url, fake.username, fake.password, "ari-app") as client,
        Store(tmp_path / "calls.sqlite3") as store,
    ):
        service = build_service(
            store,
            client,
            tmp_path / "vm",
            transcriber,
            channels=channels,
            recipients=channels.recipients,
        )
        await service.start()
        await leave_message(fake, tmp_path, "voicemail-1700000000-1")  # a caller's message
        saved = await service.recording_finished(
            "voicemail-1700000000-1",
            call_id="1700000000.1",
            line="main",
            caller="+16175550123",
            duration_s=4.0,
        )
        await service.wait_idle()
        await service.stop()
        notes = await service.notifier.deliver_pending() if service.notifier else []

    assert saved.state == "done"
    assert saved.transcript is not None
    assert "appointment" in saved.transcript  # pocketsphinx heard the message
    assert {(n.channel, n.state) for n in notes} == {
        ("webhook:practice_crm", "sent"),
        ("email:office@harbourlight.example", "sent"),  # the line's own
        ("email:frontdesk@harbourlight.example", "sent"),  # the front desk team's
    }

    [body] = receivers.hook.bodies
    vm = body["voicemail"]
    assert body["event"] == "voicemail.saved"
    assert (vm["caller"], vm["line"], vm["call_id"]) == ("+16175550123", "main", "1700000000.1")
    assert vm["transcript"] == saved.transcript
    assert vm["duration_s"] == pytest.approx(saved.duration_s)
    assert vm["id"] == saved.id
    assert vm["audio_url"] == f"https://pbx.harbourlight.example:8089/voicemails/{saved.id}/audio"

    mails = {tuple(to): message for to, message in receivers.mailbox.mails}
    assert set(mails) == {("office@harbourlight.example",), ("frontdesk@harbourlight.example",)}
    for message in mails.values():
        assert message["From"] == "voicemail@harbourlight.example"
        assert message["Subject"] == "Voicemail from +16175550123 on main"
        text = message.get_content().replace("\r\n", "\n")
        assert f"Transcript:\n{saved.transcript}" in text
        assert f"Voicemail ID: {saved.id}" in text
        assert f"/voicemails/{saved.id}/audio" in text


async def test_webhook_retries_come_from_yaml(
    tmp_path: Path,
    fake: FakeAsterisk,
    receivers: Receivers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARBOUR_WEBHOOK_SECRET", SECRET)
    receivers.hook.status = 503  # the CRM is down
    config = configured(tmp_path, receivers, retries=0)
    channels = ConfiguredChannels(lambda: config)
    await leave_message(fake, tmp_path, "voicemail-2")
    async with (
        AriClient(fake.ari_url, fake.username, fake.password, "ari-app") as client,
        Store(tmp_path / "calls.sqlite3") as store,
    ):
        service = build_service(
            store, client, tmp_path / "vm", None, channels=channels, recipients=channels.recipients
        )
        await service.recording_finished("voicemail-2", call_id=None, line="main", caller=None)
        await service.wait_idle()
        await service.stop()
        notes = {n.channel: n for n in await store.voicemails.pending_notifications()}
        rows = await store.reader.run(
            store.reader.query,
            "SELECT channel, state, attempts FROM notifications ORDER BY id",
        )
    assert notes == {}
    assert ("webhook:practice_crm", "failed", 1) in [tuple(r) for r in rows]
    assert receivers.hook.calls == 1  # retries: 0 means one attempt, no retry


async def test_simulation_and_disabled_notifications_owe_nothing(
    tmp_path: Path, receivers: Receivers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARBOUR_WEBHOOK_SECRET", SECRET)
    config = configured(tmp_path, receivers)
    off = config.model_copy(
        update={
            "app": config.app.model_copy(
                update={
                    "notifications": config.app.notifications.model_copy(update={"enabled": False})
                }
            )
        }
    )
    channels = ConfiguredChannels(lambda: off)
    assert list(channels) == []
    assert ConfiguredChannels(lambda: config).get("webhook:nope") is None
    assert sorted(ConfiguredChannels(lambda: config)) == [
        "email:frontdesk@harbourlight.example",
        "email:office@harbourlight.example",
        "webhook:practice_crm",
    ]
