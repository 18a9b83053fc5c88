"""Recordings left without a job (a crash between the recording and its job row) on an
Asterisk of ``ari.outbound.asterisks`` are adopted from it, fetched from it and deleted
there; the one at ``ari.url`` is never asked for them (issue 17)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ari_app.ari.client import AriClient
from ari_app.store import Store
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.voicemail import build_service

VOICE = Path("/usr/share/asterisk/sounds/en_US_f_Allison/vm-theperson.wav").read_bytes()
NAME = "voicemail-ast2-1700000000-4-0badcafe"


async def test_a_recording_left_on_the_second_asterisk_is_adopted_from_it(
    tmp_path: Path,
) -> None:
    first = FakeAsterisk(recordings_dir=tmp_path / "first")
    second = FakeAsterisk(
        recordings_dir=tmp_path / "second", system_name="ast2", asterisk_id="02:42:ac:11:00:02"
    )
    await first.start()
    await second.start("127.0.0.1", 0)
    stored = second.recording_path(NAME, "wav")
    await asyncio.to_thread(stored.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(stored.write_bytes, VOICE)
    try:
        async with (
            AriClient(first.ari_url, first.username, first.password, "ari_app") as one,
            AriClient(second.ari_url, second.username, second.password, "ari_app") as two,
            Store(tmp_path / "s.sqlite3") as store,
        ):
            service = build_service(store, one, tmp_path / "vm", None, asterisks={"ast2": two})
            [job] = await service.start()
            await service.wait_idle()
            await service.stop()
            asked_first = [r.operation for r in one.request_log]
            asked_second = [r.operation for r in two.request_log]
    finally:
        await first.stop()
        await second.stop()
    assert job.recording_name == NAME
    assert job.state == "done", job
    assert job.asterisk_id == "ast2"  # its key in ari.outbound.asterisks
    assert job.path is not None
    assert await asyncio.to_thread(Path(job.path).read_bytes) == VOICE
    assert not await asyncio.to_thread(stored.exists)
    assert "get_stored_recording_file" in asked_second
    assert "delete_stored_recording" in asked_second
    assert "get_stored_recording_file" not in asked_first
    assert "delete_stored_recording" not in asked_first
