"""The ARI adapter: the saver against the project's fake Asterisk through the real ARI client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from ari_app.ari.client import AriClient
from ari_app.store import Store
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.voicemail import (
    AriRecordingSource,
    NotifySettings,
    VoicemailSaver,
    build_service,
    verify,
)

VOICE = Path("/usr/share/asterisk/sounds/en_US_f_Allison/vm-theperson.wav").read_bytes()


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    pbx = FakeAsterisk(recordings_dir=tmp_path / "asterisk-recordings")
    await pbx.start()
    yield pbx
    await pbx.stop()


async def test_saves_from_the_fake_asterisk_and_deletes_its_copy(
    tmp_path: Path, fake: FakeAsterisk
) -> None:
    stored = fake.recording_path("voicemail/main-1700000000", "wav")
    await asyncio.to_thread(stored.parent.mkdir, parents=True)
    await asyncio.to_thread(stored.write_bytes, VOICE)
    async with (
        AriClient(fake.ari_url, fake.username, fake.password, "ari_app") as client,
        Store(tmp_path / "s.sqlite3") as store,
    ):
        saver = VoicemailSaver(store, AriRecordingSource(client), tmp_path / "vm", None)
        job = await saver.accept(
            "voicemail/main-1700000000",
            call_id=None,
            line="main",
            caller="+1555",
            expected_duration_s=2,
        )
        missing = await saver.accept("voicemail/nothing", call_id=None, line="main", caller=None)
        operations = [r.operation for r in client.request_log]
    assert job.state == "done"
    assert job.path is not None
    assert job.path.endswith("000001-voicemail_main-1700000000.wav")
    assert await asyncio.to_thread(Path(job.path).read_bytes) == VOICE
    assert not await asyncio.to_thread(stored.exists)
    assert missing.state == "failed"
    assert operations == [
        "get_stored_recording_file",
        "delete_stored_recording",
        "get_stored_recording_file",
    ]


async def test_the_service_resumes_at_start_and_notifies(
    tmp_path: Path, fake: FakeAsterisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_VM_SECRET", "a-shared-secret")
    received: list[dict[str, object]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify(
            b"a-shared-secret",
            request.headers["X-Ari-App-Timestamp"],
            body,
            request.headers["X-Ari-App-Signature"],
            now=time.time(),
        )
        if not ok:
            return web.Response(status=401)
        received.append(json.loads(body))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/vm", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]

    stored = fake.recording_path("vm-left-behind", "wav")
    await asyncio.to_thread(stored.parent.mkdir, parents=True)
    await asyncio.to_thread(stored.write_bytes, VOICE)
    settings = NotifySettings.model_validate(
        {"webhook": {"url": f"http://127.0.0.1:{port}/vm", "secret_env": "TEST_VM_SECRET"}}
    )
    try:
        async with (
            AriClient(fake.ari_url, fake.username, fake.password, "ari_app") as client,
            Store(tmp_path / "s.sqlite3") as store,
        ):
            # A previous run wrote the job row and died before fetching.
            await store.voicemails.create_job(
                "vm-left-behind", call_id=None, line="main", caller="+15550177"
            )
            service = build_service(store, client, tmp_path / "vm", None, settings)
            [resumed] = await service.start()
            await service.wait_idle()
            await service.stop()
    finally:
        await runner.cleanup()
    assert resumed.state == "done"
    assert not await asyncio.to_thread(stored.exists)
    assert len(received) == 1
    voicemail = received[0]["voicemail"]
    assert isinstance(voicemail, dict)
    assert voicemail["caller"] == "+15550177"
    assert voicemail["path"] == resumed.path
