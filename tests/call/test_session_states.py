"""The call session's state machine, branch by branch, in milliseconds.

Real ARI and RTP against the fake Asterisk on loopback; the caller's words and the
conversation's decisions are scripted (:mod:`scripted`), so no speech engine runs. The
end-to-end tests with real audio and engines are in ``test_call_flows.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_app.answer.policy import Action, Decision
from ari_app.ari.events import Envelope, RecordingEvent, RecordingFailed
from ari_app.ari.models import LiveRecording
from ari_app.call import events as ev
from ari_app.call.session import SAVED_MESSAGE, SORRY_MESSAGE
from ari_app.call.voicemail_step import recording_name, recording_prefix
from ari_app.config.kb_model import KnowledgeBaseError
from ari_app.testing import Behaviour

from .conftest import short_config
from .scripted import GOODBYE, Rig, rig

NEW_YORK = ZoneInfo("America/New_York")
OPEN = datetime(2026, 12, 1, 10, 30, tzinfo=NEW_YORK)
CLOSED = datetime(2026, 12, 1, 23, 30, tzinfo=NEW_YORK)
ANSWER = Decision(Action.ANSWER, "We open at eight.", confidence=0.9)


@pytest.fixture
async def r(tmp_path: Path) -> AsyncIterator[Rig]:
    """A rig in hours, every agent answering after 10 ms, nobody notified."""
    config = short_config(tmp_path / "config")
    async with rig(config, tmp_path / "recordings") as the_rig:
        the_rig.moment = OPEN
        for endpoint in ("PJSIP/201", "PJSIP/202", "PJSIP/301"):
            the_rig.fake.configure_endpoint(endpoint, Behaviour.ANSWER, 0.01)
        yield the_rig


def nobody_answers(r: Rig) -> None:
    for endpoint in ("PJSIP/201", "PJSIP/202", "PJSIP/301"):
        r.fake.configure_endpoint(endpoint, Behaviour.OFFLINE)


async def leave_message(r: Rig, call_id: str, digits: str = "#") -> None:
    """Wait until Asterisk records the caller, then end the message with ``digits``."""
    prefix = recording_prefix(call_id)
    await r.ari_event(
        "RecordingStarted",
        lambda e: isinstance(e, RecordingEvent) and e.recording.name.startswith(prefix),
    )
    r.fake.press_dtmf(call_id, digits)


async def test_answered_then_goodbye_is_resolved(r: Rig) -> None:
    r.answers = {"when do you open": ANSWER, "no thanks": GOODBYE}
    call = await r.call(turns=["when do you open", "no thanks"])
    ended = await r.ended(call)
    assert ended.outcome == "resolved"
    assert r.kinds(call.channel_id) == [
        "started", "answered", "greeting", "caller_said", "agent_said", "caller_said",
        "agent_said", "ended",
    ]  # fmt: skip
    assert r.voices[0].said[1:] == ["We open at eight.", "Goodbye."]
    assert r.left_behind(call.channel_id) == []


async def test_a_question_without_answer_is_a_knowledge_gap(r: Rig) -> None:
    r.answers = {
        "do you do implants": Decision(Action.ANSWER, "I don't know.", gap=True),
        "bye": GOODBYE,
    }
    call = await r.call(turns=["do you do implants", "bye"])
    await r.ended(call)
    assert [g.question for g in r.of(call.channel_id, ev.KnowledgeGap)] == ["do you do implants"]


async def test_silence_hands_off_and_a_person_answers_after_the_whisper(r: Rig) -> None:
    call = await r.call(turns=[None])
    answered = await r.event(call.channel_id, ev.AgentAnswered)
    await r.event(call.channel_id, ev.Bridged)
    await r.fake.hangup_from_party(answered.channel)
    ended = await r.ended(call)
    assert ended.outcome == "handed_off"
    assert ended.agent == answered.agent
    assert r.of(call.channel_id, ev.Handoff)[0].reason == "silence"
    kinds = r.kinds(call.channel_id)
    assert kinds.index("agent_answered") < kinds.index("whisper") < kinds.index("bridged")
    assert r.left_behind(call.channel_id) == []


async def test_a_key_during_the_greeting_hands_off(r: Rig) -> None:
    call = await r.call()
    await r.event(call.channel_id, ev.Answered)
    r.fake.press_dtmf(call.channel_id, "0")
    answered = await r.event(call.channel_id, ev.AgentAnswered)
    await r.event(call.channel_id, ev.Bridged)
    await r.fake.hangup_from_party(answered.channel)
    await r.ended(call)
    assert r.of(call.channel_id, ev.Handoff)[0].reason == "dtmf_0"
    assert r.of(call.channel_id, ev.CallerSaid) == []


async def test_agent_hangs_up_during_the_whisper_caller_goes_on_to_voicemail(r: Rig) -> None:
    """Nobody to connect to: the caller is not bridged to a dead leg nor dropped."""
    r.whisper_gate = asyncio.Event()
    call = await r.call(turns=[None])
    whisper = await r.event(call.channel_id, ev.Whisper)
    answered = r.of(call.channel_id, ev.AgentAnswered)[0]
    nobody_answers(r)  # the next ring step (if any) finds nobody: voicemail
    await r.fake.hangup_from_party(answered.channel)
    session = r.sessions[call.channel_id]
    await r.wait_for(lambda: answered.channel in session.inbox.gone)
    r.whisper_gate.set()
    await leave_message(r, call.channel_id)
    ended = await r.ended(call)
    assert whisper.agent == answered.agent
    assert r.of(call.channel_id, ev.Bridged) == []
    assert ended.outcome == "voicemail"
    assert r.left_behind(call.channel_id) == []


async def test_nobody_available_voicemail_ended_with_hash_still_confirms(r: Rig) -> None:
    """Issue 14 #14: the # that ends the message must not cut "saved" short."""
    nobody_answers(r)
    call = await r.call(turns=[None])
    await leave_message(r, call.channel_id, "#")
    ended = await r.ended(call)
    assert ended.outcome == "voicemail"
    assert r.voices[0].said[-1] == SAVED_MESSAGE
    recorded = r.of(call.channel_id, ev.VoicemailRecorded)[0]
    assert recorded.name.startswith(recording_prefix(call.channel_id))
    assert recorded.line == "main"


async def test_the_voicemail_is_announced_before_the_confirmation(r: Rig) -> None:
    """Issue 14 #2: the message exists for the rest of the app before anything else
    happens to the call (here: before the confirmation starts)."""
    nobody_answers(r)
    spoken_before: list[int] = []
    r.on_event.append(
        lambda e: (
            spoken_before.append(len(r.voices[0].started))
            if isinstance(e, ev.VoicemailRecorded)
            else None
        )
    )
    call = await r.call(turns=[None])
    await leave_message(r, call.channel_id)
    await r.ended(call)
    assert spoken_before == [r.voices[0].started.index(SAVED_MESSAGE)]


async def test_after_hours_goes_to_voicemail_without_ringing(r: Rig) -> None:
    r.moment = CLOSED
    call = await r.call(turns=[None])
    started = await r.event(call.channel_id, ev.VoicemailStarted)
    await leave_message(r, call.channel_id)
    await r.ended(call)
    assert started.after_hours is True
    assert "We open tomorrow, Wednesday, at 8 AM." in started.greeting
    assert r.of(call.channel_id, ev.Ringing) == []


async def test_at_capacity_after_hours_goes_straight_to_voicemail(r: Rig) -> None:
    """Every AI seat taken, after hours: no greeting, nobody rung, the closed greeting."""
    r.moment = CLOSED
    r.ai_unavailable = "capacity"
    call = await r.call()
    started = await r.event(call.channel_id, ev.VoicemailStarted)
    await leave_message(r, call.channel_id)
    ended = await r.ended(call)
    assert ended.outcome == "voicemail"
    assert r.of(call.channel_id, ev.Greeting) == []
    assert r.of(call.channel_id, ev.Ringing) == []
    assert r.of(call.channel_id, ev.Handoff)[0].reason == "ai_unavailable: capacity"
    assert started.after_hours is True
    assert r.conversation_configs == []  # the AI agent never took the call
    assert r.left_behind(call.channel_id) == []


async def test_a_broken_knowledge_base_after_the_greeting_sends_the_caller_to_people(
    r: Rig,
) -> None:
    """The greeting played, then the line's answer engine cannot be built: the line's
    ai_agent.unavailable targets ring and a person takes the call."""
    r.conversation_error = KnowledgeBaseError("main: knowledge/practice.yaml:3: entry has no id")
    call = await r.call()
    answered = await r.event(call.channel_id, ev.AgentAnswered)
    await r.event(call.channel_id, ev.Bridged)
    await r.fake.hangup_from_party(answered.channel)
    ended = await r.ended(call)
    assert ended.outcome == "handed_off"
    assert len(r.of(call.channel_id, ev.Greeting)) == 1
    assert r.of(call.channel_id, ev.Handoff)[0].reason == "ai_unavailable: kb_broken"
    assert [e.target for e in r.of(call.channel_id, ev.Ringing)] == ["front_desk"]
    assert r.left_behind(call.channel_id) == []


async def test_recording_failed_fails_the_call_with_its_reason(r: Rig) -> None:
    nobody_answers(r)
    call = await r.call(turns=[None])
    prefix = recording_prefix(call.channel_id)
    started = await r.ari_event(
        "RecordingStarted",
        lambda e: isinstance(e, RecordingEvent) and e.recording.name.startswith(prefix),
    )
    assert isinstance(started, RecordingEvent)
    name = started.recording.name
    failed = RecordingFailed(
        envelope=Envelope("RecordingFailed", r.client.app, "", {}),
        recording=LiveRecording(name=name, state="failed", cause="disk full"),
    )
    await r.route(failed)
    ended = await r.ended(call)
    assert ended.outcome == "failed"
    error = r.of(call.channel_id, ev.CallError)[0]
    assert error.stage == "voicemail"
    assert "disk full" in error.error
    assert ended.error == error.error
    assert r.voices[0].said[-1] == SORRY_MESSAGE
    assert r.of(call.channel_id, ev.VoicemailRecorded) == []
    assert r.left_behind(call.channel_id) == []


async def test_caller_hangs_up_during_the_greeting_is_abandoned(r: Rig) -> None:
    r.turns.put_nowait("hello")
    call = await r.call()
    await r.event(call.channel_id, ev.Answered)
    await call.hangup()
    ended = await r.ended(call)
    assert ended.outcome == "abandoned"
    assert r.left_behind(call.channel_id) == []


async def test_unknown_line_fails_with_the_reason(r: Rig) -> None:
    placed = await r.fake.place_call(app=r.client.app, args=["nope"])
    await r.wait_for(lambda: placed.channel_id in r.sessions)
    ended = await r.ended(placed)
    assert ended.outcome == "failed"
    assert "unknown line" in (ended.error or "")


async def test_a_reload_mid_call_changes_nothing_for_the_call(r: Rig) -> None:
    """The call keeps its snapshot: a reload that drops its line, changes the greeting and
    the media does not reach it (issue 15 #3)."""
    r.answers = {"bye": GOODBYE}
    r.whisper_gate = None
    gate = asyncio.Event()
    before = r.holder.current

    async def held_turn() -> None:
        await gate.wait()
        r.turns.put_nowait("bye")

    call = await r.call()
    await r.event(call.channel_id, ev.Greeting)
    # The reload: the line is gone from the configuration in force.
    r.holder.current = before.model_copy(update={"lines": {}})
    task = asyncio.create_task(held_turn())
    gate.set()
    ended = await r.ended(call)
    await task
    assert ended.outcome == "resolved"
    assert r.conversation_configs == [before]
    assert r.sessions[call.channel_id].config is before


async def test_reconcile_tells_a_bridged_call_its_agent_is_gone(r: Rig) -> None:
    """After an outage the agent's hang-up was never heard: reconciling ends the call
    instead of leaving it bridged forever (issue 15 #4, issue 14 #13)."""
    call = await r.call(turns=[None])
    answered = await r.event(call.channel_id, ev.AgentAnswered)
    await r.event(call.channel_id, ev.Bridged)
    session = r.sessions[call.channel_id]
    # Asterisk lost the agent's channel while our events socket was down.
    r.fake.channels.pop(answered.channel)
    live = {c.id for c in await r.client.list_channels()}
    assert answered.channel not in live
    session.reconcile(live)
    ended = await r.ended(call)
    assert ended.outcome == "handed_off"
    assert answered.channel in session.inbox.gone


async def test_reconcile_keeps_channels_asterisk_still_has(r: Rig) -> None:
    """A channel missing from a stale listing but still there is not declared gone."""
    call = await r.call()
    await r.event(call.channel_id, ev.Answered)
    session = r.sessions[call.channel_id]
    session.reconcile(set())  # a listing taken before our channels existed
    await r.wait_for(lambda: not session._tasks)
    assert session.inbox.gone == set()
    await call.hangup()
    assert (await r.ended(call)).outcome == "abandoned"


async def test_offline_members_are_not_rung(r: Rig) -> None:
    r.fake.configure_endpoint("PJSIP/201", Behaviour.OFFLINE)
    call = await r.call(turns=[None])
    answered = await r.event(call.channel_id, ev.AgentAnswered)
    await r.event(call.channel_id, ev.Bridged)
    await r.fake.hangup_from_party(answered.channel)
    ended = await r.ended(call)
    assert r.of(call.channel_id, ev.Ringing)[0].members == ("PJSIP/202",)
    assert ended.agent == "omar"


async def test_a_member_already_on_a_call_is_skipped(r: Rig) -> None:
    r.fake.configure_endpoint("PJSIP/202", Behaviour.OFFLINE)
    first = await r.call(turns=[None])
    maya = await r.event(first.channel_id, ev.AgentAnswered)
    await r.event(first.channel_id, ev.Bridged)  # Maya (201) is now talking
    r.fake.configure_endpoint("PJSIP/202", Behaviour.ANSWER, 0.01)
    second = await r.call(turns=[None])
    omar = await r.event(second.channel_id, ev.AgentAnswered)
    await r.event(second.channel_id, ev.Bridged)
    assert "PJSIP/201" not in r.of(second.channel_id, ev.Ringing)[0].members
    assert (maya.agent, omar.agent) == ("maya", "omar")
    for call, leg in ((first, maya.channel), (second, omar.channel)):
        await r.fake.hangup_from_party(leg)
        assert (await r.ended(call)).outcome == "handed_off"


@pytest.mark.parametrize("moment", [ev.Ringing, ev.Whisper])
async def test_caller_hangs_up_while_people_are_involved(
    r: Rig, moment: type[ev.CallEvent]
) -> None:
    """Nothing is left behind: agent legs, whisper media and bridges all go."""
    if moment is ev.Ringing:
        for endpoint in ("PJSIP/201", "PJSIP/202"):
            r.fake.configure_endpoint(endpoint, Behaviour.MANUAL)
    else:
        r.whisper_gate = asyncio.Event()
    call = await r.call(turns=[None])
    await r.event(call.channel_id, moment)
    await call.hangup()
    ended = await r.ended(call)
    assert ended.outcome == "abandoned"
    assert r.left_behind(call.channel_id) == []


def test_each_voicemail_recording_gets_a_new_name() -> None:
    """A call taken back after a restart records again: its first message, maybe not yet
    saved from Asterisk, is never overwritten (and the name still finds the call)."""
    first, second = recording_name("1700000000.5"), recording_name("1700000000.5")
    assert first != second
    assert first.startswith("voicemail-1700000000-5-")
