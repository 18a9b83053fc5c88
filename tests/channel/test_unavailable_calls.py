"""Whole calls through the real runtime and the fake Asterisk: the AI agent at capacity
sends the call to the line's chosen people, then to voicemail with the line's recorded
greeting; after hours a recorded greeting plays; an Asterisk sound can be the greeting.

"What the caller heard" is the fake Asterisk's record of the caller channel's audio
(after RTP, ulaw and resampling): the recorded file's samples must be found in it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import pytest_asyncio
import yaml

from ari_app.call import events as ev
from ari_app.call.events import CallEventType as E
from ari_app.call.recorded import read_recording
from ari_app.media.codecs import resample
from ari_app.simulation import CallResult, Simulation
from ari_app.testing import Behaviour
from ari_app.testing.audio import wav_bytes
from ari_app.testing.fake_asterisk import FakeCall
from ari_app.testing.scripted_caller import ScriptedCaller
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.web.pages import call_html
from ari_app.web.why import why

SAMPLE = Path(__file__).resolve().parents[2] / "config"
NEW_YORK = ZoneInfo("America/New_York")
OPEN = datetime(2026, 12, 1, 10, 30, tzinfo=NEW_YORK)
CLOSED = datetime(2026, 12, 1, 23, 30, tzinfo=NEW_YORK)
RATE = 8000
"""Rate the heard audio is compared at (the media is ulaw: 8 kHz)."""
BUSY_TEXT = "Everyone is busy. Please leave a message after the tone."
CLOSED_TEXT = "Harbour Light is closed for the night. Say your name and number."
MESSAGE = "Please call me back about my appointment."
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


async def make_recording(path: Path, text: str, rate: int, cache: Path) -> None:
    """A greeting 'recorded' in another voice than the agent's, at ``rate``."""
    voice = EspeakSynthesizer(
        VoiceSettings(voice="en-gb-x-rp", rate_wpm=170, sample_rate=rate), cache
    )
    pcm = await voice.synthesize(text)
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(path.write_bytes, wav_bytes(pcm, rate))


def channel_config(root: Path) -> Path:
    """The sample config with short greetings, recorded messages and quick ring timeouts."""
    shutil.copytree(SAMPLE, root)
    lines_file = root / "lines.yaml"
    data = yaml.safe_load(lines_file.read_text())
    line = data["lines"]["main"]
    line["ai_agent"]["greeting"] = "Harbour Light Dental, how can I help?"
    line["ai_agent"]["unavailable"] = {"targets": ["billing"]}  # not the routing targets
    line["voicemail"].update(
        greeting_in_hours=BUSY_TEXT,
        greeting_in_hours_audio="sounds/busy.wav",
        greeting_after_hours=CLOSED_TEXT,
        greeting_after_hours_audio="sounds/closed.wav",
        silence_seconds=3,
    )
    lines_file.write_text(yaml.safe_dump(data, sort_keys=False))
    people_file = root / "people.yaml"
    people = yaml.safe_load(people_file.read_text())
    for team in people["teams"].values():
        team["attempt_timeout"] = team["overall_timeout"] = 3
    people_file.write_text(yaml.safe_dump(people, sort_keys=False))
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(
    tmp_path_factory: pytest.TempPathFactory, sim_cache: Callable[[Path], Path]
) -> AsyncIterator[Simulation]:
    root = tmp_path_factory.mktemp("channel")
    cache = sim_cache(root)
    config = channel_config(root / "config")
    await make_recording(config / "sounds" / "busy.wav", BUSY_TEXT, 8000, cache / "rec")
    await make_recording(config / "sounds" / "closed.wav", CLOSED_TEXT, 16000, cache / "rec")
    await make_recording(
        root / "asterisk-sounds" / "custom" / "closed.wav", CLOSED_TEXT, 8000, cache / "rec"
    )
    simulation = Simulation(
        config,
        cache_dir=cache,
        store_path=root / "var" / "calls.sqlite3",
        voicemail_dir=root / "var" / "voicemail",
    )
    async with simulation:
        assert simulation.fake is not None
        simulation.fake.sounds_dir = root / "asterisk-sounds"
        assert simulation.runtime is not None
        # Let the start-up synthesis of every knowledge-base answer finish first: it competes
        # with the fake Asterisk's 20 ms media clock for the CPU.
        warming = [t for t in simulation.runtime.background if t.get_name() == "tts-warm"]
        await asyncio.gather(*warming)
        yield simulation


@pytest.fixture(autouse=True)
def fresh(sim: Simulation) -> None:
    """In hours, AI seats free, every phone rings unanswered."""
    assert sim.runtime is not None
    sim.moment = OPEN
    sim.runtime.supervisor.capacity.exhausted = False
    sim.agents(Behaviour.NO_ANSWER, "PJSIP/201", "PJSIP/202", "PJSIP/301")


def _best(h: np.ndarray, t: np.ndarray) -> float:
    """Best normalised cross-correlation of ``t`` anywhere within ``h``."""
    n = 1 << (len(h) + len(t)).bit_length()
    corr = np.fft.irfft(np.fft.rfft(h, n) * np.fft.rfft(t[::-1], n), n)[len(t) - 1 : len(h)]
    energy = np.cumsum(np.concatenate([[0.0], h * h]))
    window = np.sqrt(np.maximum(energy[len(t) :] - energy[: -len(t)], 0.0))
    norm = np.linalg.norm(t)
    loud = window > 0.1 * norm  # silence cannot match speech (and would divide by ~0)
    return float(np.max(np.where(loud, corr / (window * norm + 1e-9), 0.0), initial=0.0))


def match(heard: bytes, recording: Path) -> float:
    """How much of the recording the caller heard: the share of its half-second pieces
    (those with sound) found, sample for sample, in what the caller heard. Pieces, not the
    whole file, so a pacing hiccup on a loaded machine does not hide the rest."""
    h = np.frombuffer(heard, dtype="<i2").astype(np.float64)
    t = np.frombuffer(read_recording(recording, RATE), dtype="<i2").astype(np.float64)
    assert len(h) > len(t), "the caller heard less than the recording lasts"
    piece = RATE // 2
    pieces = [t[i : i + piece] for i in range(0, len(t) - piece + 1, piece)]
    loud = [p for p in pieces if np.sqrt(np.mean(p * p)) > 300]
    scores = [_best(h, p) for p in loud]
    found = sum(score > 0.8 for score in scores) / len(scores)
    print(f"{recording.name}: {found:.2f}", [round(x, 2) for x in scores])
    return found


async def leave_voicemail(sim: Simulation, call: FakeCall) -> tuple[bytes, CallResult]:
    """Once the voicemail greeting starts: what the caller hears up to the beep (at 8 kHz),
    then a message ended with ``#``, and the call's result."""
    caller = ScriptedCaller(call, sim.caller_voice.synthesize)
    await sim.wait_event(call.channel_id, E.VOICEMAIL, within=150)
    heard = await caller.wait_agent_done(within=60)  # the greeting, then the beep
    await caller.say(MESSAGE)
    await caller.wait_said()
    await call.send_dtmf("#")
    return resample(heard, 16000, RATE), await sim.wait_ended(call.channel_id, within=60)


async def test_at_capacity_chosen_people_ring_then_recorded_voicemail_greeting(
    sim: Simulation,
) -> None:
    assert sim.runtime is not None
    sim.runtime.supervisor.capacity.exhausted = True  # every AI seat is taken
    audio, result = await leave_voicemail(sim, await sim.place("main"))
    assert result.outcome == "voicemail"
    assert result.of(E.GREETING) == []  # the AI agent never spoke
    [handoff] = result.of(ev.Handoff)
    assert handoff.reason == "ai_unavailable: capacity"
    # the line's ai_agent.unavailable targets ring first (billing, then its own fallback)
    assert [(r.target, r.members) for r in result.of(ev.Ringing)] == [
        ("billing", ("PJSIP/301",)),
        ("front_desk", ("PJSIP/201", "PJSIP/202")),
    ]
    [voicemail] = result.of(ev.VoicemailStarted)
    assert (voicemail.after_hours, voicemail.greeting) == (False, BUSY_TEXT)
    config = sim.config_dir
    assert match(audio, config / "sounds" / "busy.wav") >= 0.6
    assert match(audio, config / "sounds" / "closed.wav") < 0.2  # a control
    await sim.settle()
    assert sim.runtime.store is not None
    call = await asyncio.to_thread(sim.runtime.store.reader.get_call, result.call_id)
    assert call is not None
    assert call.handoff_reason == "ai_unavailable: capacity"
    # the dashboard says why the call went where it went
    route = "AI agent unavailable (capacity) → rang lena, maya, omar → nobody answered → voicemail"
    assert why(call) == route
    assert f'<p class="why">{route}</p>' in call_html(call)
    assert sim.runtime.supervisor.capacity.in_use() == 0


async def test_after_hours_recorded_greeting(sim: Simulation) -> None:
    sim.moment = CLOSED
    call = await sim.place("main")
    await sim.wait_event(call.channel_id, E.GREETING, within=60)
    await call.send_dtmf("0")  # a person, please: after hours that is voicemail
    audio, result = await leave_voicemail(sim, call)
    assert result.outcome == "voicemail"
    assert len(result.of(E.GREETING)) == 1  # the AI agent took the call after hours
    assert result.of(E.RINGING) == []
    [voicemail] = result.of(ev.VoicemailStarted)
    assert (voicemail.after_hours, voicemail.greeting) == (True, CLOSED_TEXT)
    assert match(audio, sim.config_dir / "sounds" / "closed.wav") >= 0.6
    assert match(audio, sim.config_dir / "sounds" / "busy.wav") < 0.2


async def test_asterisk_sound_as_the_after_hours_greeting(sim: Simulation) -> None:
    assert sim.runtime is not None
    assert sim.fake is not None
    holder = sim.runtime.supervisor.holder
    config = holder.current
    line = config.lines["main"]
    voicemail = line.voicemail.model_copy(
        update={"greeting_after_hours_audio": "sound:custom/closed"}
    )
    holder.current = config.model_copy(
        update={"lines": {"main": line.model_copy(update={"voicemail": voicemail})}}
    )
    try:
        sim.moment = CLOSED
        sim.runtime.supervisor.capacity.exhausted = True
        audio, result = await leave_voicemail(sim, await sim.place("main"))
    finally:
        holder.current = config
    assert result.outcome == "voicemail"
    plays = [r for r in sim.fake.request_log if r["operation"] == "play"]
    # Asterisk plays the sound on the caller's channel
    assert [(p["path"], p["params"]["media"]) for p in plays] == [
        (f"/ari/channels/{result.call_id}/play", "sound:custom/closed")
    ]
    assert match(audio, sim.fake.sounds_dir / "custom" / "closed.wav") >= 0.6  # type: ignore[operator]


async def test_a_key_stops_the_recorded_greeting(sim: Simulation) -> None:
    """As with a spoken greeting, a key press skips the recording: the beep follows."""
    assert sim.runtime is not None
    sim.runtime.supervisor.capacity.exhausted = True
    call = await sim.place("main")
    await sim.wait_event(call.channel_id, E.VOICEMAIL, within=150)
    await call.send_dtmf("#")
    await sim.wait_event(call.channel_id, E.VOICEMAIL_RECORDED, within=60)
    await call.hangup()
    result = await sim.wait_ended(call.channel_id)
    assert result.outcome == "voicemail"
    # the caller heard only the start of the recording (without the key: all of it)
    heard = resample(call.heard(), 16000, RATE)
    assert match(heard + bytes(RATE * 2 * 10), sim.config_dir / "sounds" / "busy.wav") < 0.2
