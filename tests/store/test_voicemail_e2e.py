"""A voicemail end to end against the fake Asterisk: the call is recorded as it happens, the
caller speaks a real voice, presses #, RecordingFinished arrives, the service saves it."""

from __future__ import annotations

import asyncio
import sqlite3
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.events import RecordingFinished, StasisStart
from ari_app.ari.listener import EventListener
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.store import Outcome, Store
from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.voicemail import (
    AriRecordingSource,
    EngineTranscriber,
    Notifier,
    VoicemailSaver,
    VoicemailService,
)

VOICE = Path("/usr/share/asterisk/sounds/en_US_f_Allison/vm-theperson.wav")


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 8000
        pcm: bytes = wav.readframes(wav.getnframes())
    return pcm


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    pbx = FakeAsterisk(recordings_dir=tmp_path / "asterisk-recordings")
    await pbx.start()
    yield pbx
    await pbx.stop()


@pytest.mark.slow
# ari_app.asr.pocketsphinx_engine (issue 4) still calls pocketsphinx's deprecated default_config().
@pytest.mark.filterwarnings("ignore:default_config\\(\\) is deprecated:DeprecationWarning")
async def test_a_voicemail_from_call_to_saved_file(tmp_path: Path, fake: FakeAsterisk) -> None:
    db = tmp_path / "store.sqlite3"
    log = EventLog()
    async with (
        AriClient(fake.ari_url, fake.username, fake.password, APP) as client,
        Store(db) as store,
    ):
        listener = EventListener(client, log)
        await listener.start()
        try:
            async with asyncio.timeout(5):
                await listener.connected.wait()
            saver = VoicemailSaver(
                store,
                AriRecordingSource(client),
                tmp_path / "voicemail",
                EngineTranscriber(await asyncio.to_thread(PocketsphinxEngine)),
            )
            service = VoicemailService(saver, Notifier(store, {}))
            await service.start()

            call = await fake.place_call(did="100", caller_number="+15550123")
            start = await log.wait_for(StasisStart, channel__id=call.channel_id)
            await store.calls.start_call(call.channel_id, "main", "+15550123", "100")
            await client.answer(call.channel_id)
            await store.calls.add_event(call.channel_id, "voicemail_started")
            # Live: the record exists before the call ends.
            with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
                assert conn.execute("SELECT outcome FROM calls").fetchone() == (None,)

            name = f"voicemail/{call.channel_id}"
            await client.record(
                call.channel_id, name, "wav", terminate_on="#", max_duration_seconds=60
            )
            await call.send_audio(await asyncio.to_thread(_pcm, VOICE), rate=8000)
            recording = fake.recordings[name]
            await fake.wait_until(lambda: recording.total_frames >= 100, 10)
            await call.send_dtmf("#")
            finished = await log.wait_for(RecordingFinished, recording__name=name)
            job = await service.recording_finished(
                finished.recording.name,
                call_id=call.channel_id,
                line="main",
                caller=start.channel.caller.number,
                duration_s=finished.recording.duration,
            )
            await call.hangup()
            await store.calls.finish_call(call.channel_id, Outcome.VOICEMAIL)
            await service.stop()
        finally:
            await listener.stop()
        record = await store.reader.run(store.reader.get_call, call.channel_id)

    assert job.state == "done", job.error
    assert job.call_id == call.channel_id
    assert job.caller == "+15550123"
    assert job.duration_s is not None
    assert job.duration_s >= 2.0
    assert job.transcript_error is None
    assert job.path is not None
    with wave.open(job.path) as wav:
        assert wav.getframerate() == 8000
    assert fake.stored_recordings() == []  # Asterisk's copy is gone only after the save
    assert record is not None
    assert record.outcome == "voicemail"
    assert [e.kind for e in record.events] == ["voicemail_started"]
