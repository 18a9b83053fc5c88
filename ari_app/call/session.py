"""One caller from StasisStart to an outcome: greet, converse, hand off, voicemail, clean up.

A :class:`CallSession` owns everything its call creates (bridge, external media, agent
legs, recogniser thread, tasks) and tears all of it down in ``finally`` on every path.
Its only way out is its event stream (:mod:`ari_app.call.events`): it never writes the
store or saves voicemail itself; ``Ended`` is always its last event. It keeps the
configuration snapshot taken at StasisStart to the end. The caller hanging up cancels
whatever the call was doing, except while a voicemail is being recorded: then the call
waits for Asterisk's RecordingFinished so the message is kept.

The steps live in their own modules: :mod:`~ari_app.call.core` (state, media, speaking,
listening, reconciliation), :mod:`~ari_app.call.converse` (the AI agent),
:mod:`~ari_app.call.people` (ringing, whisper, bridge) and
:mod:`~ari_app.call.voicemail_step`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ari_app.answer.policy import Action, Decision
from ari_app.ari.errors import ChannelGone
from ari_app.call.converse import ConverseSteps
from ari_app.call.core import SORRY_MESSAGE, CallerGone
from ari_app.call.events import CallError, Ended, Handoff, Started
from ari_app.call.messages import AiUnavailableError
from ari_app.call.people import PeopleSteps, spoken_number
from ari_app.call.voicemail_step import SAVED_MESSAGE, VoicemailSteps
from ari_app.config.models import Line
from ari_app.errors import AriAppError
from ari_app.outcomes import Outcome
from ari_app.routing.plan import AiAgentStep, plan_call

_LOGGER = logging.getLogger(__name__)
HOLD_MESSAGE = "Please hold while I connect you."

__all__ = [
    "HOLD_MESSAGE",
    "SAVED_MESSAGE",
    "SORRY_MESSAGE",
    "CallSession",
    "CallerGone",
    "spoken_number",
]


class CallSession(ConverseSteps, PeopleSteps, VoicemailSteps):
    """The state machine of one inbound call."""

    async def run(self) -> Outcome:
        """Take the call to an outcome; never raises except for cancellation."""
        self._started = asyncio.get_running_loop().time()
        self._emit(
            Started,
            line=self.line_name,
            caller=self.caller.caller.number,
            did=self.caller.dialplan.exten,
            resumed=self.already_answered,
        )
        try:
            line = self.config.lines.get(self.line_name)
            if line is None:
                raise LookupError(f"unknown line {self.line_name!r} in the Stasis arguments")
            await self._run_until_hangup(line)
        except CallerGone:
            self.outcome = self.outcome or Outcome.ABANDONED
        except asyncio.CancelledError:
            self.outcome = self.outcome or Outcome.FAILED
            self.error = self.error or "cancelled (the application stopped)"
            raise
        except Exception as err:
            if self._caller_went_away(err):
                self.outcome = self.outcome or Outcome.ABANDONED
            else:
                _LOGGER.exception("call %s failed", self.call_id)
                stage = str(err.stage) if isinstance(err, AriAppError) else "call"
                self.error = f"{type(err).__name__}: {err}"
                self._emit(CallError, error=self.error, stage=stage)
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

    async def _run_until_hangup(self, line: Line) -> None:
        flow = asyncio.create_task(self._flow(line), name=f"call-{self.call_id}-flow")
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

    async def _flow(self, line: Line) -> None:
        config = self.config
        now = self.services.now
        plan = plan_call(config, self.line_name, now(), ai_unavailable=self.ai_unavailable)
        await self._connect_media(line)
        topic: str | None = None
        decision: Decision | None = None
        first = plan.steps[0]
        if isinstance(first, AiAgentStep):
            try:
                decision = await self._converse(first)
            except AiUnavailableError as err:  # its answer engine failed: people take over
                _LOGGER.error("call %s: %s", self.call_id, err)
                self.ai_unavailable = err.reason
            else:
                if decision.action is Action.GOODBYE:
                    self.outcome = Outcome.RESOLVED
                    await self._hang_up_caller()
                    return
                topic = decision.topic
                self.handoff_reason = decision.reason or "no_match"
        plan = plan_call(
            config, self.line_name, now(), topic=topic, ai_unavailable=self.ai_unavailable
        )
        if decision is None:
            self.handoff_reason = (
                f"ai_unavailable: {plan.ai_unavailable}"
                if plan.ai_unavailable is not None
                else "people_first"
                if plan.state.is_open
                else "closed"
            )
        rings = plan.ring_steps
        self._emit(Handoff, reason=self.handoff_reason, topic=topic, open=plan.state.is_open)
        if rings:
            await self._say(
                decision.say if decision is not None and decision.say else HOLD_MESSAGE,
                barge_in=False,
            )
            for step in rings:
                answered = await self._ring(step)
                if answered is not None and await self._connect_agent(line, answered):
                    return
        await self._voicemail(line, plan.voicemail)

    async def _finish(self) -> None:
        """Tear down everything the call made and emit ``Ended`` (always, last)."""
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
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
        except Exception:
            _LOGGER.exception("call %s: cleanup failed", self.call_id)
        finally:
            self._emit(
                Ended,
                outcome=str(self.outcome or Outcome.FAILED),
                reason=self.handoff_reason,
                agent=self.agent,
                error=self.error,
            )
