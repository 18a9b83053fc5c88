"""`ari.mode: outbound` with two Asterisks on one worker: a voicemail left on the SECOND
Asterisk is fetched from it over its own HTTP ARI (``ari.outbound.asterisks``, keyed by
its system name), saved, and its copy deleted there, never asked of the first (``ari.url``).
A stored recording's audio is a file, which Asterisk serves over HTTP only (a RESTRequest
for it is answered 406), so without the mapping the first Asterisk would be asked for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.call import events as ev
from ari_app.config import ConfigHolder
from ari_app.simulation import AfterBeep, HangUp, Press, Say, Simulation, Step, WaitFor
from ari_app.store import VoicemailRecord
from ari_app.testing import FakeAsterisk
from ari_app.testing.outbound import OutboundWebsocket
from tests.call.conftest import CLOSED, short_config

MESSAGE = "this is a test message please call me back"
FILE = "/recordings/stored/{recordingName}/file"
STORED = "/recordings/stored/{recordingName}"


class TwoAsterisks(Simulation):
    """The simulation's fake Asterisk (``ari.url``) plus a second one, ``ast2``, mapped in
    ``ari.outbound.asterisks`` by its system name."""

    second: FakeAsterisk

    def configure(self, holder: ConfigHolder, fake_url: str) -> None:
        super().configure(holder, fake_url)
        app = holder.current.app
        outbound = app.ari.outbound.model_copy(
            update={"asterisks": {"ast2": self.second.url.rstrip("/")}}
        )
        ari = app.ari.model_copy(update={"outbound": outbound})
        holder.current = holder.current.model_copy(
            update={"app": app.model_copy(update={"ari": ari})}
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(
    tmp_path_factory: pytest.TempPathFactory, sim_cache: Callable[[Path], Path]
) -> AsyncIterator[TwoAsterisks]:
    root = tmp_path_factory.mktemp("two-asterisks")
    simulation = TwoAsterisks(
        short_config(root / "config"),
        cache_dir=sim_cache(root),
        store_path=root / "var" / "calls.sqlite3",
        voicemail_dir=root / "var" / "voicemail",
        ari_mode="outbound",
        connection_type="per_call_config",
    )
    simulation.moment = CLOSED  # after hours: straight to voicemail
    username = ConfigHolder(root / "config").current.app.ari.username
    simulation.second = FakeAsterisk(
        username=username,
        password=simulation.password,
        recordings_dir=root / "second-recordings",
        system_name="ast2",
        asterisk_id="02:42:ac:11:00:02",
    )
    await simulation.second.start("127.0.0.1", 0)
    try:
        async with simulation:
            assert simulation.holder is not None
            assert simulation.runtime is not None
            server = simulation.runtime.listener.server  # type: ignore[union-attr]
            out = simulation.holder.current.app.ari.outbound
            simulation.second.outbound.add(
                OutboundWebsocket(
                    uri=server.url,
                    apps=[simulation.holder.current.app.ari.app],
                    connection_type="per_call_config",
                    username=out.username,
                    password=simulation.password,
                )
            )
            yield simulation
    finally:
        await simulation.second.stop()


def _recording_requests(fake: FakeAsterisk) -> list[tuple[str, str, int | None]]:
    return [
        (e["method"], e["template"], e.get("status"))
        for e in fake.request_log
        if e.get("template") in {FILE, STORED}
    ]


@pytest.mark.asyncio(loop_scope="module")
async def test_voicemail_on_the_second_asterisk_is_fetched_and_deleted_there(
    sim: TwoAsterisks,
) -> None:
    assert sim.fake is not None
    assert sim.runtime is not None
    assert sim.runtime.store is not None
    assert sim.holder is not None
    second = sim.second
    assert set(sim.runtime.asterisk_ari) == {"ast2"}
    config = sim.holder.current
    call = await second.place_call(
        did=config.lines["main"].did or "100",
        caller_number="+16175550123",
        app=config.app.ari.app,
        args=["main"],
    )
    assert call.channel_id.startswith("ast2-")
    steps: list[Step] = [
        Press("0"),
        WaitFor(ev.CallEventType.VOICEMAIL),
        AfterBeep(),
        Say(MESSAGE),
        HangUp(),
    ]
    result = await sim.run_call_on(call, steps)
    assert result.outcome == "voicemail"
    recorded = result.of(ev.VoicemailRecorded)[0]
    assert recorded.asterisk_id == second.asterisk_id
    await sim.settle()
    voicemails = await asyncio.to_thread(sim.runtime.store.reader.list_voicemails)
    mine = [v for v in voicemails if v.call_id == call.channel_id]
    assert len(mine) == 1, voicemails
    job = mine[0]
    assert job.state in {"done", "empty"}, job
    assert job.asterisk_id == second.asterisk_id
    assert job.path is not None
    assert (job.size_bytes or 0) > 1000
    # Fetched from and deleted on the second Asterisk over its HTTP ARI...
    asked = _recording_requests(second)
    assert ("GET", FILE, 200) in asked, asked
    assert ("DELETE", STORED, 204) in asked, asked
    assert not list(second.recordings_dir.rglob(f"{recorded.name}*"))
    # ... and never asked of the first (ari.url).
    assert _recording_requests(sim.fake) == []


@pytest.mark.asyncio(loop_scope="module")
async def test_an_asterisk_missing_from_the_mapping_falls_back_to_ari_url(
    sim: TwoAsterisks, caplog: pytest.LogCaptureFixture
) -> None:
    """A job recorded on an Asterisk the mapping does not list goes to ``ari.url``, and the
    missing id is logged once."""
    assert sim.runtime is not None
    assert sim.runtime.voicemail is not None
    saver = sim.runtime.voicemail.saver
    sources = saver._source_for
    assert sources is not None
    job = _job(call_id="ast9-1733100000.7", asterisk_id="02:42:ac:11:00:09")
    with caplog.at_level("WARNING", logger="ari_app.voicemail.source"):
        first, again = sources(job), sources(job)
    assert first is again is saver._source  # the default: ari.url
    warned = [r.getMessage() for r in caplog.records if "02:42:ac:11:00:09" in r.getMessage()]
    assert len(warned) == 1
    assert "ast9" in warned[0]
    # Found by system name (its call id's prefix) or by asterisk_id; no id: ari.url, silently.
    by_name = sources(_job(call_id="ast2-1733100000.8", asterisk_id="02:42:ac:11:00:02"))
    assert by_name is not saver._source
    assert sources(_job(call_id="1733100000.9", asterisk_id=None)) is saver._source


def _job(*, call_id: str, asterisk_id: str | None) -> VoicemailRecord:
    return VoicemailRecord(
        id=0,
        recording_name="voicemail-x",
        call_id=call_id,
        line="main",
        caller=None,
        recorded_at=0.0,
        expected_duration_s=None,
        state="pending",
        path=None,
        size_bytes=None,
        duration_s=None,
        sample_rate=None,
        transcript=None,
        transcript_error=None,
        error=None,
        attempts=0,
        created_at=0.0,
        updated_at=0.0,
        asterisk_id=asterisk_id,
    )
