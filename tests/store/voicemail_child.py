"""Child process for the voicemail crash test.

Usage: voicemail_child.py DB VOICEMAIL_DIR ARI_BASE_URL RECORDING CRASH_STEP
Accepts one finished recording; when the saver reaches CRASH_STEP (job_written, stored,
saved) it prints ``AT <step>`` on stdout and waits forever, for the test's SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from recording_http import HttpRecordingSource  # type: ignore[import-not-found]

from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.store import Store, VoicemailRecord
from ari_app.voicemail import EngineTranscriber, VoicemailSaver


async def main(db: Path, vm_dir: Path, base_url: str, name: str, crash_step: str) -> None:
    async def checkpoint(step: str, job: VoicemailRecord) -> None:
        if step == crash_step:
            sys.stdout.write(f"AT {step} {job.id}\n")
            sys.stdout.flush()
            await asyncio.Event().wait()

    store = Store(db)
    await store.open()
    saver = VoicemailSaver(
        store,
        HttpRecordingSource(base_url, "ari_app", "test-secret"),
        vm_dir,
        EngineTranscriber(PocketsphinxEngine()),
        notify_channels=("webhook",),
        checkpoint=checkpoint,
    )
    await saver.accept(
        name,
        call_id=None,
        line="main",
        caller="+15550199",
        recorded_at=datetime(2026, 11, 4, 18, 30, tzinfo=UTC),
        expected_duration_s=6,
    )
    sys.stdout.write("FINISHED\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]))
