"""Voicemail is never lost: kill -9 at each step, restart, the job finishes; bad audio is kept."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import os
import signal
import sqlite3
import sys
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.store import Store, VoicemailRecord
from ari_app.store.db import Database
from ari_app.testing.pg_cluster import PgCluster
from ari_app.voicemail import EngineTranscriber, RecordingSource, VoicemailSaver
from tests.store.conftest import pg_database

ARI_USER = "ari_app"
ARI_PASSWORD = "test-secret"


@dataclass
class FakeRecordings:
    """Serves exactly the two ARI routes the saver uses, as Asterisk 22 documents them."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_fetches: int = 0
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ari/recordings/stored/{recordingName}/file", self.get_file)
        app.router.add_delete("/ari/recordings/stored/{recordingName}", self.delete)
        return app

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{ARI_USER}:{ARI_PASSWORD}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def get_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["recordingName"]
        self.requests.append(("GET", name))
        if not self._authorized(request):
            return web.json_response({"message": "Unauthorized"}, status=401)
        if self.fail_fetches > 0:
            self.fail_fetches -= 1
            return web.json_response(
                {"message": "The recording file could not be opened"}, status=403
            )
        if name not in self.files:
            return web.json_response({"message": "Recording not found"}, status=404)
        return web.Response(body=self.files[name], content_type="audio/wav")

    async def delete(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["recordingName"]
        self.requests.append(("DELETE", name))
        if not self._authorized(request):
            return web.json_response({"message": "Unauthorized"}, status=401)
        if self.files.pop(name, None) is None:
            return web.json_response({"message": "Recording not found"}, status=404)
        return web.Response(status=204)


@pytest.fixture
async def fake_recordings() -> AsyncIterator[FakeRecordings]:
    fake = FakeRecordings()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}/ari"
    yield fake
    await runner.cleanup()


SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
VOICE = (SOUNDS / "vm-intro.wav").read_bytes()  # 5.65 s of a real voice, 8 kHz like Asterisk's wav
CHILD = Path(__file__).with_name("voicemail_child.py")


def _load_http_source() -> type[RecordingSource]:
    spec = importlib.util.spec_from_file_location(
        "recording_http", Path(__file__).with_name("recording_http.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls: type[RecordingSource] = module.HttpRecordingSource
    return cls


HttpRecordingSource = _load_http_source()


@pytest.fixture(scope="module")
def engine() -> PocketsphinxEngine:
    return PocketsphinxEngine()


@pytest.fixture
def source(fake_recordings: FakeRecordings) -> RecordingSource:
    return HttpRecordingSource(fake_recordings.base_url, ARI_USER, ARI_PASSWORD)  # type: ignore[call-arg]


def row(db: Path, sql: str) -> tuple[object, ...]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = conn.execute(sql).fetchone()
    finally:
        conn.close()
    assert result is not None
    return tuple(result)


@pytest.mark.slow
# ari_app.asr.pocketsphinx_engine (issue 4) still calls pocketsphinx's deprecated default_config().
@pytest.mark.filterwarnings("ignore:default_config\\(\\) is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("crash_step", "state_left"),
    [("job_written", "pending"), ("stored", "stored"), ("saved", "saved")],
)
async def test_kill_9_then_restart_saves_the_voicemail_and_deletes_asterisks_copy(
    tmp_path: Path,
    fake_recordings: FakeRecordings,
    source: RecordingSource,
    engine: PocketsphinxEngine,
    crash_step: str,
    state_left: str,
) -> None:
    db, vm_dir = tmp_path / "store.sqlite3", tmp_path / "voicemail"
    fake_recordings.files["vm-7f3a"] = VOICE
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        str(db),
        str(vm_dir),
        fake_recordings.base_url,
        "vm-7f3a",
        crash_step,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await child.stdout.readline()
    assert line.decode().startswith(f"AT {crash_step} ")
    os.kill(child.pid, signal.SIGKILL)
    assert await child.wait() == -signal.SIGKILL

    # Killed mid-job: the row says how far it got, and Asterisk still has its copy.
    assert row(db, "SELECT state, caller FROM voicemails") == (state_left, "+15550199")
    assert fake_recordings.files == {"vm-7f3a": VOICE}
    assert ("DELETE", "vm-7f3a") not in fake_recordings.requests

    async with Store(db) as store:
        saver = VoicemailSaver(
            store,
            source,
            vm_dir,
            EngineTranscriber(engine),
            notify_channels=("webhook",),
        )
        [done] = await saver.resume()
        assert await store.voicemails.unfinished() == []

    assert done.state == "done"
    assert done.caller == "+15550199"
    assert done.line == "main"
    assert done.path is not None
    saved = Path(done.path)
    assert await asyncio.to_thread(saved.read_bytes) == VOICE
    with wave.open(str(saved)) as wav:
        assert wav.getnframes() == 45235
    assert done.duration_s == pytest.approx(45235 / 8000)
    assert done.size_bytes == len(VOICE)
    # The real recognizer heard words in the real recording (pocketsphinx without a domain
    # model gets them wrong, so only their presence is checked here).
    assert done.transcript is not None
    assert len(done.transcript.split()) >= 3
    assert done.transcript_error is None
    assert fake_recordings.files == {}
    assert fake_recordings.requests.count(("DELETE", "vm-7f3a")) == 1
    assert list(vm_dir.glob(".*.tmp")) == []
    assert row(db, "SELECT channel, state FROM notifications") == ("webhook", "pending")


async def test_a_damaged_recording_is_failed_and_kept_on_asterisk(
    store_target: Path | Database,
    tmp_path: Path,
    fake_recordings: FakeRecordings,
    source: RecordingSource,
) -> None:
    fake_recordings.files["broken"] = VOICE[: len(VOICE) // 2]  # header promises twice the data
    async with Store(store_target) as store:
        saver = VoicemailSaver(store, source, tmp_path / "vm", None)
        job = await saver.accept("broken", call_id=None, line="main", caller="+1555")
    assert job.state == "failed"
    assert job.error is not None
    assert "header promises 45235 frames" in job.error
    assert "broken" in fake_recordings.files
    assert ("DELETE", "broken") not in fake_recordings.requests


async def test_a_wrong_duration_is_caught(
    store_target: Path | Database,
    tmp_path: Path,
    fake_recordings: FakeRecordings,
    source: RecordingSource,
) -> None:
    fake_recordings.files["short"] = VOICE
    async with Store(store_target) as store:
        saver = VoicemailSaver(store, source, tmp_path / "vm", None)
        job = await saver.accept(
            "short", call_id=None, line="main", caller=None, expected_duration_s=30
        )
    assert job.state == "failed"
    assert "Asterisk reported 30 s" in (job.error or "")
    assert "short" in fake_recordings.files


async def test_a_refused_fetch_is_retried_on_resume(
    store_target: Path | Database,
    tmp_path: Path,
    fake_recordings: FakeRecordings,
    source: RecordingSource,
) -> None:
    fake_recordings.files["vm-retry"] = VOICE
    fake_recordings.fail_fetches = 1
    async with Store(store_target) as store:
        saver = VoicemailSaver(store, source, tmp_path / "vm", None)
        first = await saver.accept("vm-retry", call_id=None, line="main", caller="+1555")
        assert first.state == "pending"
        assert "403" in (first.error or "")
        assert "vm-retry" in fake_recordings.files
        [second] = await saver.resume()
    assert second.state == "done"
    assert second.attempts == 2
    assert second.transcript_error == "no transcriber configured"
    assert fake_recordings.files == {}


async def test_a_recording_asterisk_never_had_is_failed_clearly(
    store_target: Path | Database,
    tmp_path: Path,
    fake_recordings: FakeRecordings,
    source: RecordingSource,
) -> None:
    async with Store(store_target) as store:
        saver = VoicemailSaver(store, source, tmp_path / "vm", None)
        job = await saver.accept("ghost", call_id=None, line="main", caller=None)
    assert job.state == "failed"
    assert "not on Asterisk and was never saved" in (job.error or "")


async def test_a_dead_workers_voicemail_is_finished_by_another_worker(
    pg_cluster: PgCluster,
    tmp_path: Path,
    fake_recordings: FakeRecordings,
    source: RecordingSource,
) -> None:
    """Two workers on one PostgreSQL store: the one saving a voicemail dies after storing
    the audio (its claim is never given back); once the claim's lease runs out the other
    finishes the job: saved once, Asterisk's copy deleted once."""
    db = pg_database(pg_cluster)
    fake_recordings.files["voicemail-c1-1"] = VOICE
    a = Store(db, worker_id="a", voicemail_lease_s=0.5)
    b = Store(db, worker_id="b", voicemail_lease_s=0.5)
    await a.open()
    await b.open()
    stored = asyncio.Event()

    async def die_after_storing(step: str, job: VoicemailRecord) -> None:
        if step == "stored":
            stored.set()
            await asyncio.Event().wait()  # hangs here until the worker is gone

    doomed = VoicemailSaver(a, source, tmp_path / "vm", None, checkpoint=die_after_storing)
    dying = asyncio.create_task(
        doomed.accept("voicemail-c1-1", call_id=None, line="main", caller="+1555")
    )
    await stored.wait()
    await a.close()  # the worker is gone: its claim stays in the store
    dying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dying
    survivor = VoicemailSaver(b, source, tmp_path / "vm", None)
    assert await survivor.resume() == []  # a's claim has not run out yet
    await asyncio.sleep(0.6)
    [job] = await survivor.resume()
    await b.close()
    assert job.state == "done"
    assert job.path is not None
    assert await asyncio.to_thread(Path(job.path).exists)
    assert fake_recordings.files == {}
    assert fake_recordings.requests.count(("DELETE", "voicemail-c1-1")) == 1
