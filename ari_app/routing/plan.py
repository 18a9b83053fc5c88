"""The routing plan: the ordered steps a call on a line takes at a given moment.

In hours: AI agent (when assigned and ``ai_first``) → the line's targets, each team
followed by its fallback chain → voicemail with the in-hours greeting. After hours: the AI
agent (when assigned) → voicemail with the after-hours greeting naming the next opening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ari_app.config.models import Config, Team
from ari_app.routing.hours import BusinessHours, OpenState, spoken_time


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


Step = AiAgentStep | RingStep | VoicemailStep


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    """What happens to a call on ``line`` at ``state.now``."""

    line: str
    state: OpenState
    steps: list[Step] = field(default_factory=list)

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
    config: Config, line_name: str, now: datetime, topic: str | None = None
) -> RoutingPlan:
    """The plan for a call on ``line_name`` at ``now``; ``topic`` picks a topic's targets."""
    try:
        line = config.lines[line_name]
    except KeyError:
        known = ", ".join(sorted(config.lines))
        raise UnknownLineError(f"unknown line {line_name!r}; known lines: {known}") from None
    state = BusinessHours.from_line(line).state_at(now)
    ai = line.ai_agent
    steps: list[Step] = []
    if not state.is_open:
        if ai.enabled:
            steps.append(AiAgentStep(after_hours=True, greeting=ai.greeting))
        opening = spoken_time(state.next_opening, state.now) if state.next_opening else "soon"
        greeting = line.voicemail.greeting_after_hours.format(next_opening=opening)
        steps.append(VoicemailStep(greeting, True, line.voicemail.max_seconds))
        return RoutingPlan(line_name, state, steps)
    if ai.enabled and line.routing.in_hours == "ai_first":
        steps.append(AiAgentStep(after_hours=False, greeting=ai.greeting))
    targets = line.routing.targets
    for t in line.routing.topics:
        if t.name == topic:
            targets = [*t.targets, *targets]
    steps += ring_steps_for(config, targets)
    steps.append(
        VoicemailStep(
            line.voicemail.greeting_in_hours.format(next_opening="soon"),
            False,
            line.voicemail.max_seconds,
        )
    )
    return RoutingPlan(line_name, state, steps)


def describe(plan: RoutingPlan) -> str:
    """The plan in plain words, one step a line, for ``ari-app route``."""
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
    out.append("Plan:")
    for number, step in enumerate(plan.steps, 1):
        if isinstance(step, AiAgentStep):
            mode = (
                "after hours: answers questions, offers voicemail when a person is needed"
                if step.after_hours
                else "answers questions, hands off when needed"
            )
            out.append(f"  {number}. AI agent ({mode})")
        elif isinstance(step, RingStep):
            who = ", ".join(f"{m.name} ({m.endpoint})" for m in step.members)
            out.append(
                f"  {number}. ring {step.kind} {step.label} [{step.strategy}, "
                f"{step.attempt_timeout:g} s per attempt, {step.overall_timeout:g} s in all]: {who}"
            )
        else:
            out.append(f'  {number}. voicemail, greeting: "{step.greeting}"')
    return "\n".join(out)
