"""The voicemail service fed by the call stream: a durable job the moment a recording ends,
saved by its own worker; recordings Asterisk holds without a job adopted at start; jobs
stuck on our disk retried periodically; silent messages kept but not notified.

Real store, real fake Asterisk over HTTP (stored recordings on its disk), real WAV files.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ari_app.ari.client import AriClient
from ari_app.call.events import VoicemailRecorded
from ari_app.store import Store, VoicemailRecord
from ari_app.store.db import Database
from ari_app.testing.audio import tone, wav_bytes
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.voicemail.notify import Notifier
from ari_app.voicemail.saver import VoicemailSaver
from ari_app.voicemail.service import VoicemailService
from ari_app.voicemail.source import AriRecordingSource

CALL = "1700000000.42"
NAME = "voicemail-1700000000-42-0a1b2c3d"


def wav(seconds: float, *, loud: bool) -> bytes:
    """8 kHz 16-bit mono: a 300 Hz tone at speech level, or silence."""
    ms = int(seconds * 1000)
    pcm = tone(300, ms, level=0.2, rate=8000) if loud else bytes(16 * ms)
    return wav_bytes(pcm, 8000)


@dataclass
class Words:
    """A transcriber that 'hears' fixed words (the speech engines have their own tests)."""

    text: str

    async def __call__(self, wav: bytes) -> str:
        return self.text


@dataclass
class Setup:
    fake: FakeAsterisk
    store: Store
    client: AriClient
    dir: Path

    def service(
        self, words: str = "please call me back", *, retry_s: float = 60.0
    ) -> VoicemailService:
        source = AriRecordingSource(self.client)
        saver = VoicemailSaver(
            self.store, source, self.dir, Words(words), notify_channels=("email",)
        )
        return VoicemailService(saver, Notifier(self.store, {}), lister=source, retry_s=retry_s)

    def on_asterisk(self, name: str, data: bytes) -> None:
        path = self.fake.recording_path(name, "wav")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
async def s(tmp_path: Path, store_target: Path | Database) -> AsyncIterator[Setup]:
    fake = FakeAsterisk(recordings_dir=tmp_path / "asterisk")
    await fake.start("127.0.0.1", 0)
    client = AriClient(fake.ari_url, fake.username, fake.password, "ari-app", timeout=5.0)
    async with Store(store_target) as store:
        yield Setup(fake, store, client, tmp_path / "voicemail")
    await client.close()
    await fake.stop()


def recorded(duration_s: float = 2.0) -> VoicemailRecorded:
    return VoicemailRecorded(
        call_id=CALL, at_ms=9000, name=NAME, duration_s=duration_s, line="main", caller="+1555"
    )


async def notifications(store: Store, job: VoicemailRecord) -> list[str]:
    rows = await store.reader.run(
        store.reader.query, "SELECT channel FROM notifications WHERE voicemail_id = ?", (job.id,)
    )
    return [r[0] for r in rows]


async def test_the_recorded_event_makes_a_durable_job_then_the_worker_saves_it(s: Setup) -> None:
    service = s.service()
    await service.start()
    s.on_asterisk(NAME, wav(2.0, loud=True))  # the call's recording just finished
    service.on_call_event(recorded())
    await service.wait_idle()
    job = await s.store.voicemails.get(1)
    assert job.state == "done"
    assert (job.call_id, job.line, job.caller) == (CALL, "main", "+1555")
    assert job.transcript == "please call me back"
    assert await notifications(s.store, job) == ["email"]
    assert s.fake.stored_recordings() == []  # Asterisk's copy deleted after saving
    await service.stop()


async def test_stop_writes_the_job_row_even_if_the_worker_never_ran(s: Setup) -> None:
    """Shut down right after the event: the row is in the store for the next start."""
    service = s.service()
    await service.start()
    service.on_call_event(recorded())
    await service.stop()
    [job] = await s.store.voicemails.unfinished()
    assert (job.recording_name, job.state) == (NAME, "pending")


async def test_start_adopts_a_recording_asterisk_holds_without_a_job(s: Setup) -> None:
    """Killed between the end of the recording and the job row: the restart finds the
    recording on Asterisk (GET /recordings/stored) and saves it with its call's details."""
    await s.store.calls.start_call(CALL, "main", "+16175550100", "100")
    s.on_asterisk(NAME, wav(2.0, loud=True))
    s.on_asterisk("not-a-voicemail", wav(1.0, loud=True))
    service = s.service()
    [job] = await service.start()
    assert job.state == "done"
    assert (job.call_id, job.line, job.caller) == (CALL, "main", "+16175550100")
    assert [name for name, _fmt, _path in s.fake.stored_recordings()] == ["not-a-voicemail"]
    await service.stop()


async def test_start_does_not_wait_for_old_jobs_before_taking_calls(s: Setup) -> None:
    """Issue 14 #19: the catch-up runs in the worker; ``start(wait=False)`` returns at once."""
    gate = asyncio.Event()
    service = s.service()
    original = service.saver.resume

    async def slow_resume() -> list[VoicemailRecord]:
        await gate.wait()
        return await original()

    service.saver.resume = slow_resume  # type: ignore[method-assign]
    assert await service.start(wait=False) == []
    gate.set()
    await service.wait_idle()
    await service.stop()


async def test_a_job_stuck_on_our_disk_is_retried_periodically(s: Setup) -> None:
    """Issue 14 #19: a full (here: unusable) voicemail folder is retried by the worker,
    not only at the next start, and never given up on."""
    s.dir.parent.mkdir(parents=True, exist_ok=True)
    s.dir.write_text("a file where the folder should be")  # every write fails (OSError)
    s.on_asterisk(NAME, wav(2.0, loud=True))
    service = s.service(retry_s=0.05)
    await service.start()
    service.on_call_event(recorded())
    await service.wait_idle()
    job = await s.store.voicemails.get(1)
    assert job.state == "pending"
    assert job.error
    attempts = job.attempts
    s.dir.unlink()  # room again
    done = asyncio.Event()

    async def finished() -> None:
        while (await s.store.voicemails.get(1)).state != "done":
            await service.wait_idle()
            await asyncio.sleep(0.05)  # one retry period
        done.set()

    async with asyncio.timeout(30):
        await finished()
    final = await s.store.voicemails.get(1)
    assert final.attempts > attempts
    assert final.state == "done"
    await service.stop()


@pytest.mark.parametrize(
    ("loud", "state", "transcript", "notified"),
    [(False, "empty", "", []), (True, "done", None, ["email"])],
)
async def test_a_message_without_words(
    s: Setup, loud: bool, state: str, transcript: str | None, notified: list[str]
) -> None:
    """Issue 12 #7: silence is kept but flagged ``empty`` and nobody is notified; audio
    the recogniser found no words in but that is loud enough to be speech is ``done``
    (people listen to it) with the reason there is no transcript."""
    s.on_asterisk(NAME, wav(2.0, loud=loud))
    service = s.service(words="")
    await service.start()
    service.on_call_event(recorded())
    await service.wait_idle()
    job = await s.store.voicemails.get(1)
    assert job.state == state
    assert job.transcript == transcript
    assert job.path
    assert await asyncio.to_thread(Path(job.path).is_file)
    assert await notifications(s.store, job) == notified
    await service.stop()
