"""One caller from StasisStart to an outcome: greet, converse, hand off, voicemail, clean up.

A :class:`CallSession` owns everything its call creates (bridge, external media, agent
legs, recogniser thread, tasks) and tears all of it down in ``finally`` on every path. It
emits :class:`~ari_app.call.events.CallEvent`; ``ENDED`` is always the last one. The
caller hanging up cancels whatever the call was doing, except while a voicemail is being
recorded: then the call waits for Asterisk's RecordingFinished so the message is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ari_app.answer.conversation import Conversation, policy_settings
from ari_app.answer.policy import Action, Decision
from ari_app.ari.errors import AriError, ChannelGone
from ari_app.ari.events import (
    AriEvent,
    ChannelDestroyed,
    RecordingFailed,
    RecordingFinished,
    StasisEnd,
)
from ari_app.ari.models import Channel
from ari_app.call.events import CallEvent, CallEventListener, CallEventType
from ari_app.call.handoff import Answered, Ringer
from ari_app.call.inbox import CallInbox
from ari_app.call.media_path import PCM_RATE, MediaPath, open_media
from ari_app.call.services import CallServices
from ari_app.call.tones import ringback
from ari_app.call.voice import SayResult, Utterance, Voice
from ari_app.config.models import Config, Line
from ari_app.routing.plan import AiAgentStep, Member, RingStep, VoicemailStep, plan_call
from ari_app.store.models import Outcome

_LOGGER = logging.getLogger(__name__)
HOLD_MESSAGE = "Please hold while I connect you."
SAVED_MESSAGE = "Thank you. Your message has been saved. Goodbye."
SORRY_MESSAGE = "I'm sorry, something went wrong on our side. Please call again later. Goodbye."
RECORDING_GRACE_S = 30.0
"""Seconds past the longest message to wait for Asterisk's RecordingFinished."""


def spoken_number(number: str) -> str:
    """A caller number as it is read out: "+16175550111" -> "6 1 7, 5 5 5, 0 1 1 1"."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not digits:
        return "an unknown number"
    groups = [digits[:3], digits[3:6], digits[6:]] if len(digits) == 10 else [digits]
    return ", ".join(" ".join(group) for group in groups)


class CallerGone(Exception):
    """The caller hung up."""


@dataclass(slots=True)
class _Recording:
    name: str
    duration_s: float | None = None


class CallSession:
    """The state machine of one inbound call."""

    def __init__(
        self,
        services: CallServices,
        caller: Channel,
        line_name: str,
        *,
        listeners: list[CallEventListener] | None = None,
        already_answered: bool = False,
    ) -> None:
        self.services = services
        self.ari = services.ari
        self.caller = caller
        self.call_id = caller.id
        self.line_name = line_name
        self.inbox = CallInbox(caller.id)
        self.listeners = listeners or []
        self.already_answered = already_answered
        self.events: list[CallEvent] = []
        self.outcome: Outcome | None = None
        self.handoff_reason: str | None = None
        self.agent: str | None = None
        self.bridge_id = f"{self.call_id}-bridge"
        self._bridges: set[str] = set()
        self._media: MediaPath | None = None
        self._voice: Voice | None = None
        self._ringer: Ringer | None = None
        self._recording: _Recording | None = None
        self._protect_recording = False
        self._listen_task: asyncio.Task[Utterance | None] | None = None
        self._pending_digit: str | None = None
        self._last_question = ""
        self._started = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    # --- events -----------------------------------------------------------------------

    def _emit(self, kind: CallEventType, **data: Any) -> None:
        loop = asyncio.get_running_loop()
        event = CallEvent(kind, self.call_id, int((loop.time() - self._started) * 1000), data)
        self.events.append(event)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("call %s: event listener failed", self.call_id)

    def deliver(self, event: AriEvent) -> None:
        """Hand an ARI event about one of our channels to this call."""
        self.inbox.deliver(event)

    async def _record(self, action: Callable[[], Awaitable[Any]]) -> None:
        """Write to the store; a store failure is logged, never ends the call."""
        if self.services.store is None:
            return
        try:
            await action()
        except Exception:
            _LOGGER.exception("call %s: could not write the call record", self.call_id)

    # --- the whole call ---------------------------------------------------------------

    async def run(self) -> Outcome:
        """Take the call to an outcome; never raises except for cancellation."""
        self._started = asyncio.get_running_loop().time()
        config = self.services.config()
        line = config.lines.get(self.line_name)
        number = self.caller.caller.number
        self._emit(CallEventType.STARTED, line=self.line_name, caller=number)
        store = self.services.store
        if store is not None:
            await self._record(
                lambda: store.calls.start_call(
                    self.call_id, self.line_name, number, self.caller.dialplan.exten
                )
            )
        try:
            if line is None:
                raise LookupError(f"unknown line {self.line_name!r} in the Stasis arguments")
            await self._run_until_hangup(config, line)
        except CallerGone:
            self.outcome = self.outcome or Outcome.ABANDONED
        except asyncio.CancelledError:
            self.outcome = self.outcome or Outcome.FAILED
            raise
        except Exception as err:
            if self._caller_went_away(err):
                self.outcome = self.outcome or Outcome.ABANDONED
            else:
                _LOGGER.exception("call %s failed", self.call_id)
                self._emit(CallEventType.ERROR, error=str(err))
                self.outcome = self.outcome or Outcome.FAILED
                await self._apologise()
        finally:
            await asyncio.shield(self._finish())
        return self.outcome or Outcome.FAILED

    def _caller_went_away(self, err: Exception) -> bool:
        """True when ``err`` only says the caller is gone (hung up, or Asterisk lost them)."""
        if self.inbox.caller_gone.is_set():
            return True
        return isinstance(err, ChannelGone) and self.call_id in err.path

    async def _run_until_hangup(self, config: Config, line: Line) -> None:
        flow = asyncio.create_task(self._flow(config, line), name=f"call-{self.call_id}-flow")
        gone = asyncio.create_task(self.inbox.caller_gone.wait(), name=f"call-{self.call_id}-gone")
        try:
            await asyncio.wait({flow, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not flow.done():
                if self._protect_recording:
                    await flow  # the recording ends by itself when the caller hangs up
                    return
                flow.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flow
                raise CallerGone
            flow.result()
        finally:
            gone.cancel()
            if not flow.done():
                flow.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flow

    async def _flow(self, config: Config, line: Line) -> None:
        plan = plan_call(config, self.line_name, self.services.now())
        await self._connect_media(line)
        topic: str | None = None
        decision: Decision | None = None
        first = plan.steps[0]
        if isinstance(first, AiAgentStep):
            decision = await self._converse(line, first)
            if decision.action is Action.GOODBYE:
                self.outcome = Outcome.RESOLVED
                await self._hang_up_caller()
                return
            topic = decision.topic
            self.handoff_reason = decision.reason or "no_match"
        else:
            self.handoff_reason = "people_first" if plan.state.is_open else "closed"
        plan = plan_call(config, self.line_name, self.services.now(), topic=topic)
        rings = plan.ring_steps
        self._emit(
            CallEventType.HANDOFF, reason=self.handoff_reason, topic=topic, open=plan.state.is_open
        )
        store = self.services.store
        if store is not None:
            reason = self.handoff_reason
            await self._record(lambda: store.calls.note_handoff(self.call_id, reason))
        if rings:
            await self._say(
                decision.say if decision is not None and decision.say else HOLD_MESSAGE,
                barge_in=False,
            )
            for step in rings:
                answered = await self._ring(step)
                if answered is not None:
                    await self._connect_agent(line, answered)
                    return
        await self._voicemail(line, plan.voicemail)

    # --- media and speech -------------------------------------------------------------

    async def _connect_media(self, line: Line) -> None:
        ari = self.ari
        settings = self.services.config().app.media
        media_id = f"{self.call_id}-media"
        self.inbox.channels.add(media_id)

        async def bridge() -> None:
            await ari.create_bridge("mixing", bridge_id=self.bridge_id)
            self._bridges.add(self.bridge_id)

        async def media() -> None:
            self._media = await open_media(ari, settings, media_id)

        answer = [] if self.already_answered else [ari.answer(self.call_id)]
        await asyncio.gather(bridge(), media(), *answer)
        self._emit(CallEventType.ANSWERED)
        assert self._media is not None
        await ari.add_channel(self.bridge_id, [self.call_id, self._media.channel_id])
        speech = self.services.speech
        self._voice = Voice(
            self._media.transport,
            speech.chunks(line.ai_agent.voice, line.ai_agent.rate),
            speech.recognizer,
            self.services.endpointer,
        )
        self._voice.start()

    async def _say(self, text: str, *, barge_in: bool = True) -> SayResult:
        """Speak; a key press stops our speech too (the digit is kept for the next turn)."""
        assert self._voice is not None
        speaking = asyncio.create_task(self._voice.say(text, barge_in=barge_in))
        digit = asyncio.create_task(self.inbox.dtmf.get())
        try:
            await asyncio.wait({speaking, digit}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            speaking.cancel()
            raise
        finally:
            if not digit.done():
                digit.cancel()
        if digit.done() and not digit.cancelled():
            self._pending_digit = digit.result()
            if not speaking.done():
                speaking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await speaking
                self._voice.transport.flush()
                return SayResult(True, None)
        result = await speaking
        if result.interrupted:
            self._emit(CallEventType.BARGE_IN, text=text)
        return result

    async def _next_input(self) -> Utterance | str | None:
        """The caller's next utterance, a digit they pressed, or None for silence."""
        if self._pending_digit is not None:
            pressed, self._pending_digit = self._pending_digit, None
            return pressed
        assert self._voice is not None
        if self._listen_task is None:
            self._listen_task = asyncio.create_task(self._voice.listen())
        digit = asyncio.create_task(self.inbox.dtmf.get())
        try:
            await asyncio.wait({self._listen_task, digit}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not digit.done():
                digit.cancel()
        if digit.done() and not digit.cancelled():
            return digit.result()
        task, self._listen_task = self._listen_task, None
        return task.result()

    # --- the AI agent -----------------------------------------------------------------

    async def _converse(self, line: Line, step: AiAgentStep) -> Decision:
        """Greet and answer questions until the policy says goodbye or hand off."""
        loop = asyncio.get_running_loop()
        answered_at = loop.time()
        greeting = await self._say(step.greeting)
        if greeting.first_audio_at is not None:
            self._emit(
                CallEventType.GREETING,
                latency_ms=round((greeting.first_audio_at - answered_at) * 1000),
            )
        await self._turn_record("agent", step.greeting, 1.0, None)
        # After the greeting: a line's engine built on first use (after a reload) never
        # delays the caller's first audio; what they say meanwhile is already being heard.
        conversation = Conversation(
            await self.services.answers(self.line_name),
            policy_settings(line),
            line=self.line_name,
        )
        while True:
            heard = await self._next_input()
            utterance: Utterance | None = None
            if isinstance(heard, str):
                self._emit(CallEventType.DTMF, digit=heard)
                decision = conversation.dtmf(heard)
            elif heard is None or not heard.text:
                self._emit(CallEventType.SILENCE)
                decision = conversation.silence()
            else:
                utterance = heard
                self._last_question = heard.text
                self._emit(
                    CallEventType.CALLER_SAID,
                    text=heard.text,
                    confidence=round(heard.confidence, 3),
                )
                await self._turn_record("caller", heard.text, heard.confidence, None)
                decision = await conversation.hear(heard.text, self.services.now())
            if decision.gap and utterance is not None:
                await self._gap_record(utterance.text)
            if decision.action is Action.IGNORE:
                continue
            if decision.action is Action.HANDOFF:
                return decision
            result = await self._say(decision.say, barge_in=decision.action is not Action.GOODBYE)
            latency = None
            if utterance is not None and result.first_audio_at is not None:
                latency = round((result.first_audio_at - utterance.end_of_speech_at) * 1000)
            self._emit(
                CallEventType.AGENT_SAID,
                text=decision.say,
                action=str(decision.action),
                confidence=round(decision.confidence, 3),
                latency_ms=latency,
                interrupted=result.interrupted,
            )
            await self._turn_record("agent", decision.say, decision.confidence, latency)
            if decision.action is Action.GOODBYE:
                return decision

    async def _gap_record(self, question: str) -> None:
        store = self.services.store
        if store is not None:
            await self._record(lambda: store.calls.add_knowledge_gap(self.call_id, question))

    async def _turn_record(
        self, speaker: str, text: str, confidence: float, latency_ms: int | None
    ) -> None:
        store = self.services.store
        if store is None:
            return
        at_ms = int((asyncio.get_running_loop().time() - self._started) * 1000)
        await self._record(
            lambda: store.calls.add_turn(
                self.call_id,
                speaker,
                text,
                confidence=confidence,
                start_ms=at_ms,
                end_ms=at_ms,
                latency_ms=latency_ms,
            )
        )

    # --- people -----------------------------------------------------------------------

    async def _ring(self, step: RingStep) -> Answered | None:
        assert self._media is not None
        if self._ringer is None:
            self._ringer = Ringer(
                self.ari,
                self.inbox,
                self.call_id,
                self.caller.caller.number,
                history=self.services.ring_history,
                on_ring=self._on_ring,
            )
        tone = asyncio.create_task(self._ringback(), name=f"call-{self.call_id}-ringback")
        try:
            answered = await self._ringer.ring(step)
        finally:
            tone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tone
            self._media.transport.flush()
        if answered is not None:
            self._emit(
                CallEventType.AGENT_ANSWERED,
                agent=answered.member.user,
                endpoint=answered.member.endpoint,
                channel=answered.channel_id,
            )
        return answered

    def _on_ring(self, step: RingStep, members: list[Member]) -> None:
        self._emit(CallEventType.RINGING, target=step.target, members=[m.endpoint for m in members])
        store = self.services.store
        if store is not None:
            for member in members:
                data = {"agent": member.user}
                write = functools.partial(store.calls.add_event, self.call_id, "agent_ring", data)
                task = asyncio.create_task(self._record(write))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _ringback(self) -> None:
        assert self._media is not None
        cycle = ringback(PCM_RATE)
        while True:
            await self._media.transport.send(cycle)
            await self._media.transport.wait_sent()

    async def _connect_agent(self, line: Line, answered: Answered) -> None:
        """Whisper to the agent, then bridge them with the caller until either hangs up."""
        if line.handoff.whisper:
            await self._whisper(line, answered)
        assert self._media is not None
        assert self._voice is not None
        await self._voice.close()
        await self._media.close(self.ari)
        self._media = None
        await self.ari.add_channel(self.bridge_id, answered.channel_id)
        self.agent = answered.member.user
        self.outcome = Outcome.HANDED_OFF
        self._emit(CallEventType.BRIDGED, agent=answered.member.user)
        store = self.services.store
        if store is not None:
            agent = answered.member.user
            await self._record(
                lambda: store.calls.add_event(self.call_id, "agent_answered", {"agent": agent})
            )
        leg = answered.channel_id
        if leg not in self.inbox.gone:
            await self.inbox.wait_for(
                lambda e: isinstance(e, ChannelDestroyed | StasisEnd) and e.channel.id == leg
            )
        await self._hang_up_caller()

    async def _whisper(self, line: Line, answered: Answered) -> None:
        number = spoken_number(self.caller.caller.number)
        about = self._last_question or "a question for a person"
        text = f"Call from {number}, about: {about}. Connecting you now."
        whisper_id = f"{self.call_id}-whisper"
        bridge_id = f"{self.call_id}-whisper-bridge"
        self.inbox.channels.add(whisper_id)
        media = await open_media(self.ari, self.services.config().app.media, whisper_id)
        try:
            await self.ari.create_bridge("mixing", bridge_id=bridge_id)
            self._bridges.add(bridge_id)
            await self.ari.add_channel(bridge_id, [answered.channel_id, whisper_id])
            self._emit(CallEventType.WHISPER, agent=answered.member.user, text=text)
            speak = self.services.speech.chunks(line.ai_agent.voice, line.ai_agent.rate)
            async for chunk in speak(text):
                await media.transport.send(chunk)
            await media.transport.wait_sent()
        finally:
            await media.close(self.ari)
            await self._destroy_bridge(bridge_id)

    # --- voicemail --------------------------------------------------------------------

    async def _voicemail(self, line: Line, step: VoicemailStep) -> None:
        self._emit(CallEventType.VOICEMAIL, after_hours=step.after_hours, greeting=step.greeting)
        await self._say(step.greeting, barge_in=False)
        self._pending_digit = None
        name = f"voicemail-{self.call_id}".replace(".", "-")
        # Asterisk cannot record a channel that is in a bridge: take the caller out first.
        await self.ari.remove_channel(self.bridge_id, self.call_id)
        self._recording = _Recording(name)
        self.inbox.recordings.add(name)
        self._protect_recording = True
        try:
            await self.ari.record(
                self.call_id,
                name,
                format="wav",
                max_duration_seconds=step.max_seconds,
                max_silence_seconds=max(1, round(line.voicemail.silence_seconds)),
                if_exists="overwrite",
                beep=True,
                terminate_on="#",
            )
            event = await self.inbox.wait_for(
                lambda e: (
                    isinstance(e, RecordingFinished | RecordingFailed) and e.recording.name == name
                ),
                step.max_seconds + RECORDING_GRACE_S,
            )
        finally:
            self._protect_recording = False
        if isinstance(event, RecordingFailed):
            self._recording = None
            raise RuntimeError(f"voicemail recording failed: {event.recording.cause}")
        assert isinstance(event, RecordingFinished)
        self._recording.duration_s = event.recording.duration
        self.outcome = Outcome.VOICEMAIL
        self._emit(CallEventType.VOICEMAIL_RECORDED, name=name, duration_s=event.recording.duration)
        if self.inbox.caller_gone.is_set():
            return
        with contextlib.suppress(AriError):
            await self.ari.add_channel(self.bridge_id, self.call_id)
            await self._say(SAVED_MESSAGE, barge_in=False)
        await self._hang_up_caller()

    # --- endings ----------------------------------------------------------------------

    async def _apologise(self) -> None:
        if self._voice is None or self.inbox.caller_gone.is_set():
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(15):
                await self._voice.say(SORRY_MESSAGE, barge_in=False)

    async def _hang_up_caller(self) -> None:
        if self.call_id not in self.inbox.gone:
            with contextlib.suppress(AriError):
                await self.ari.hangup(self.call_id)

    async def _destroy_bridge(self, bridge_id: str) -> None:
        self._bridges.discard(bridge_id)
        with contextlib.suppress(AriError):
            await self.ari.destroy_bridge(bridge_id)

    async def _finish(self) -> None:
        """Tear down everything the call made, write its outcome, emit ENDED."""
        try:
            if self._listen_task is not None:
                self._listen_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._listen_task
            if self._ringer is not None:
                await self._ringer.hang_up_all()
            if self._voice is not None:
                await self._voice.close()
            if self._media is not None:
                await self._media.close(self.ari)
            for bridge_id in list(self._bridges):
                await self._destroy_bridge(bridge_id)
            await self._hang_up_caller()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            outcome = self.outcome or Outcome.FAILED
            if self._recording is not None and self._recording.duration_s is not None:
                await self._save_voicemail(self._recording)
            store = self.services.store
            if store is not None:
                reason, agent = self.handoff_reason, self.agent
                await self._record(
                    lambda: store.calls.finish_call(
                        self.call_id, outcome, handoff_reason=reason, agent=agent
                    )
                )
        except Exception:
            _LOGGER.exception("call %s: cleanup failed", self.call_id)
        finally:
            self._emit(
                CallEventType.ENDED,
                outcome=str(self.outcome or Outcome.FAILED),
                reason=self.handoff_reason,
                agent=self.agent,
            )

    async def _save_voicemail(self, recording: _Recording) -> None:
        service = self.services.voicemail
        if service is None:
            return
        try:
            await service.recording_finished(
                recording.name,
                call_id=self.call_id,
                line=self.line_name,
                caller=self.caller.caller.number,
                duration_s=recording.duration_s,
            )
        except Exception:
            # The job row was written first: the next start finishes saving it.
            _LOGGER.exception("call %s: voicemail %s not saved yet", self.call_id, recording.name)
