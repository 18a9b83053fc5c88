"""The routing plan: the ordered steps a call on a line takes at a given moment.

In hours: AI agent (when assigned and ``ai_first``) → the line's targets, each team
followed by its fallback chain → voicemail with the in-hours greeting. After hours: the AI
agent (when assigned) → voicemail with the after-hours greeting naming the next opening.

When the AI agent would take the call but cannot (``ai_unavailable``: turned off, at
capacity, models failed, knowledge base broken, app draining — the caller of
:func:`plan_call` says which), in hours the line's ``ai_agent.unavailable.targets`` ring
instead, then voicemail; after hours the call goes straight to voicemail. Greetings may be
recordings (:class:`Audio`): a WAV in the config folder or an Asterisk ``sound:``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from ari_app.config.channel import SOUND_PREFIX
from ari_app.config.models import Config, Team
from ari_app.routing.hours import BusinessHours, OpenState, spoken_time

AiUnavailable = Literal["off", "capacity", "models_failed", "kb_broken", "draining"]
"""Why the AI agent cannot take a call: turned off on the line, over the line's or the
process's ``max_calls``, speech or answer models failed to load, the knowledge base is
broken (after a reload), or the app is draining for shutdown."""
AI_UNAVAILABLE_REASONS: tuple[str, ...] = get_args(AiUnavailable)


@dataclass(frozen=True, slots=True)
class Audio:
    """A recorded message: a WAV file in the config folder or an Asterisk sound."""

    reference: str
    """As written in lines.yaml: ``sounds/closed.wav`` or ``sound:custom/closed``."""
    path: Path | None
    """The WAV file to play (None for an Asterisk sound)."""

    @property
    def sound(self) -> str | None:
        """The ARI media URI of an Asterisk sound (``sound:custom/closed``), else None."""
        return self.reference if self.reference.startswith(SOUND_PREFIX) else None

    @classmethod
    def of(cls, config: Config, reference: str | None) -> Audio | None:
        """The recorded message ``reference`` names (None stays None)."""
        if reference is None:
            return None
        if reference.startswith(SOUND_PREFIX):
            return cls(reference, None)
        return cls(reference, Path(config.config_dir) / reference)


@dataclass(frozen=True, slots=True)
class Member:
    """A person a ring step can call."""

    user: str
    name: str
    endpoint: str


@dataclass(frozen=True, slots=True)
class AiAgentStep:
    """The AI agent talks with the caller first."""

    after_hours: bool
    greeting: str
    greeting_audio: Audio | None = None
    """A recording played instead of synthesising ``greeting`` (its transcript)."""


@dataclass(frozen=True, slots=True)
class RingStep:
    """Ring a team (with its strategy) or a single user."""

    target: str
    kind: Literal["team", "user"]
    label: str
    members: tuple[Member, ...]
    strategy: str
    attempt_timeout: float
    overall_timeout: float


@dataclass(frozen=True, slots=True)
class VoicemailStep:
    """Play ``greeting``, then record a message."""

    greeting: str
    after_hours: bool
    max_seconds: int
    greeting_audio: Audio | None = None
    """A recording played instead of synthesising ``greeting`` (its transcript)."""


Step = AiAgentStep | RingStep | VoicemailStep


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    """What happens to a call on ``line`` at ``state.now``."""

    line: str
    state: OpenState
    steps: list[Step] = field(default_factory=list)
    ai_unavailable: AiUnavailable | None = None
    """Set when the AI agent would have taken the call but could not, and why."""

    @property
    def ring_steps(self) -> list[RingStep]:
        """The people steps, in order."""
        return [s for s in self.steps if isinstance(s, RingStep)]

    @property
    def voicemail(self) -> VoicemailStep:
        """The final voicemail step."""
        last = self.steps[-1]
        assert isinstance(last, VoicemailStep)
        return last


class UnknownLineError(KeyError):
    """No line of that name in the configuration."""


def ring_steps_for(config: Config, targets: list[str]) -> list[RingStep]:
    """Ring steps for ``targets``, each team followed by its fallback chain, no team twice."""
    steps: list[RingStep] = []
    seen: set[str] = set()

    def add_team(name: str) -> None:
        while name not in seen:
            seen.add(name)
            team: Team = config.teams[name]
            members = tuple(
                Member(m, config.users[m].name, config.users[m].endpoint) for m in team.members
            )
            steps.append(
                RingStep(
                    name,
                    "team",
                    team.name or name,
                    members,
                    team.strategy,
                    team.attempt_timeout,
                    team.overall_timeout,
                )
            )
            if team.fallback is None:
                return
            name = team.fallback

    for target in targets:
        if target in config.teams:
            add_team(target)
        elif target in config.users and target not in seen:
            seen.add(target)
            user = config.users[target]
            steps.append(
                RingStep(
                    target,
                    "user",
                    user.name,
                    (Member(target, user.name, user.endpoint),),
                    "ringall",
                    20.0,
                    20.0,
                )
            )
    return steps


def plan_call(
    config: Config,
    line_name: str,
    now: datetime,
    topic: str | None = None,
    *,
    ai_unavailable: AiUnavailable | None = None,
) -> RoutingPlan:
    """The plan for a call on ``line_name`` at ``now``; ``topic`` picks a topic's targets.

    ``ai_unavailable`` says the AI agent cannot take calls now, and why; a line whose AI
    agent is turned off counts as ``off``. It only changes the plan where the AI agent
    would have answered (not on a ``people_first`` line in hours).
    """
    try:
        line = config.lines[line_name]
    except KeyError:
        known = ", ".join(sorted(config.lines))
        raise UnknownLineError(f"unknown line {line_name!r}; known lines: {known}") from None
    state = BusinessHours.from_line(line).state_at(now)
    ai = line.ai_agent
    voicemail = line.voicemail
    unavailable: AiUnavailable | None = ai_unavailable or (None if ai.enabled else "off")
    greeting = AiAgentStep(not state.is_open, ai.greeting, Audio.of(config, ai.greeting_audio))
    steps: list[Step] = []
    if not state.is_open:
        if unavailable is None:
            steps.append(greeting)
        opening = spoken_time(state.next_opening, state.now) if state.next_opening else "soon"
        steps.append(
            VoicemailStep(
                voicemail.greeting_after_hours.format(next_opening=opening),
                True,
                voicemail.max_seconds,
                Audio.of(config, voicemail.greeting_after_hours_audio),
            )
        )
        return RoutingPlan(line_name, state, steps, unavailable)
    targets = line.routing.targets
    if line.routing.in_hours != "ai_first":
        unavailable = None  # the AI agent was not going to take the call anyway
    elif unavailable is None:
        steps.append(greeting)
    else:
        targets = ai.unavailable.targets or targets
    for t in line.routing.topics:
        if t.name == topic and unavailable is None:
            targets = [*t.targets, *targets]
    steps += ring_steps_for(config, targets)
    steps.append(
        VoicemailStep(
            voicemail.greeting_in_hours.format(next_opening="soon"),
            False,
            voicemail.max_seconds,
            Audio.of(config, voicemail.greeting_in_hours_audio),
        )
    )
    return RoutingPlan(line_name, state, steps, unavailable)


def _heard(text: str, audio: Audio | None) -> str:
    """A greeting as ``route`` shows it: the recording (with its transcript) or the text."""
    if audio is None:
        return f'"{text}"'
    kind = "Asterisk sound" if audio.sound else "recording"
    return f'{kind} {audio.reference} ("{text}")'


def _step_lines(steps: list[Step]) -> list[str]:
    out = []
    for number, step in enumerate(steps, 1):
        if isinstance(step, AiAgentStep):
            mode = (
                "after hours: answers questions, offers voicemail when a person is needed"
                if step.after_hours
                else "answers questions, hands off when needed"
            )
            out.append(
                f"  {number}. AI agent ({mode}), greeting: "
                + _heard(step.greeting, step.greeting_audio)
            )
        elif isinstance(step, RingStep):
            who = ", ".join(f"{m.name} ({m.endpoint})" for m in step.members)
            out.append(
                f"  {number}. ring {step.kind} {step.label} [{step.strategy}, "
                f"{step.attempt_timeout:g} s per attempt, {step.overall_timeout:g} s in all]: {who}"
            )
        else:
            out.append(
                f"  {number}. voicemail, greeting: {_heard(step.greeting, step.greeting_audio)}"
            )
    return out


def describe(
    plan: RoutingPlan,
    *,
    if_unavailable: RoutingPlan | None = None,
    notified: Sequence[str] = (),
) -> str:
    """The plan in plain words, one step a line, for ``ari-app route``.

    ``if_unavailable`` is the plan of the same moment when the AI agent cannot take the
    call (shown as its own branch); ``notified`` names who hears about a voicemail.
    """
    state = plan.state
    out = [
        f"Line {plan.line} at {state.now.strftime('%A %Y-%m-%d %H:%M %Z')}",
        f"  {'OPEN' if state.is_open else 'CLOSED'} — {state.reason.split(': ', 1)[1]}",
    ]
    if state.closes_at:
        out.append(f"  closes at {state.closes_at.strftime('%A %Y-%m-%d %H:%M %Z')}")
    if state.next_opening:
        out.append(
            f"  next opening: {state.next_opening.strftime('%A %Y-%m-%d %H:%M %Z')} "
            f"({spoken_time(state.next_opening, state.now)})"
        )
    elif not state.is_open:
        out.append("  next opening: none within a year")
    if plan.ai_unavailable is not None:
        out.append(f"  AI agent unavailable: {plan.ai_unavailable} (recorded as the reason)")
    out.append("Plan:")
    out += _step_lines(plan.steps)
    if if_unavailable is not None and if_unavailable.ai_unavailable is not None:
        reasons = ", ".join(AI_UNAVAILABLE_REASONS)
        out.append(f"If the AI agent cannot take the call ({reasons}):")
        out += _step_lines(if_unavailable.steps)
    if notified:
        out.append(f"Voicemail notifies: {', '.join(notified)}")
    return "\n".join(out)
