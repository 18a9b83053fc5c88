"""The ordered plan of steps for a call at a moment, and ring strategies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ari_app.config import Config
from ari_app.routing.plan import (
    AiAgentStep,
    Member,
    RingStep,
    UnknownLineError,
    VoicemailStep,
    describe,
    plan_call,
)
from ari_app.routing.ring import RingHistory, ring_attempts

NEW_YORK = ZoneInfo("America/New_York")


def local(text: str) -> datetime:
    """``2026-12-01T10:30`` in New York."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def test_in_hours_plan(config: Config) -> None:
    plan = plan_call(config, "main", local("2026-12-01T10:30"))
    assert [type(s) for s in plan.steps] == [AiAgentStep, RingStep, VoicemailStep]
    ring = plan.ring_steps[0]
    assert (ring.target, ring.strategy, ring.attempt_timeout) == ("front_desk", "ringall", 20.0)
    assert [m.endpoint for m in ring.members] == ["PJSIP/201", "PJSIP/202"]
    assert plan.voicemail.greeting.startswith("Everyone is helping other patients")
    assert not plan.voicemail.after_hours


def test_after_hours_plan_names_next_opening(config: Config) -> None:
    plan = plan_call(config, "main", local("2026-12-01T23:30"))
    assert [type(s) for s in plan.steps] == [AiAgentStep, VoicemailStep]
    first = plan.steps[0]
    assert isinstance(first, AiAgentStep)
    assert first.after_hours
    assert "We open again tomorrow, Wednesday, at 8 AM." in plan.voicemail.greeting


def test_holiday_plan(config: Config) -> None:
    plan = plan_call(config, "main", local("2026-12-25T10:30"))
    assert plan.state.reason == "closed: Christmas Day"
    assert "We open again on Monday at 8 AM." in plan.voicemail.greeting


def test_topic_puts_its_team_first_with_fallback(config: Config) -> None:
    plan = plan_call(config, "main", local("2026-12-01T10:30"), topic="billing")
    assert [s.target for s in plan.ring_steps] == ["billing", "front_desk"]


def test_people_first_and_ai_off(config: Config) -> None:
    line = config.lines["main"]
    no_ai = line.model_copy(
        update={"ai_agent": line.ai_agent.model_copy(update={"enabled": False})}
    )
    changed = config.model_copy(update={"lines": {"main": no_ai}})
    in_hours = plan_call(changed, "main", local("2026-12-01T10:30"))
    assert [type(s) for s in in_hours.steps] == [RingStep, VoicemailStep]
    after = plan_call(changed, "main", local("2026-12-01T23:30"))
    assert [type(s) for s in after.steps] == [VoicemailStep]


def test_unknown_line(config: Config) -> None:
    with pytest.raises(UnknownLineError, match="known lines: main"):
        plan_call(config, "sales", local("2026-12-01T10:30"))


def test_describe_is_plain_words(config: Config) -> None:
    text = describe(plan_call(config, "main", local("2026-12-01T12:45")))
    assert "CLOSED — between today's opening ranges" in text
    assert "next opening: Tuesday 2026-12-01 13:30 EST (today at 1:30 PM)" in text
    assert "2. voicemail" in text


def _step(strategy: str, attempt: float = 10, overall: float = 25) -> RingStep:
    members = tuple(Member(u, u.title(), f"PJSIP/{n}") for u, n in (("a", 1), ("b", 2), ("c", 3)))
    return RingStep("team", "team", "Team", members, strategy, attempt, overall)


def test_ringall_rings_everyone_available_once() -> None:
    attempts = ring_attempts(_step("ringall"), lambda m: m.user != "b", RingHistory())
    assert [[m.user for m in a.members] for a in attempts] == [["a", "c"]]
    assert attempts[0].timeout == 10


def test_sequential_respects_overall_timeout() -> None:
    attempts = ring_attempts(_step("sequential"), lambda m: True, RingHistory())
    assert [(a.members[0].user, a.timeout) for a in attempts] == [("a", 10), ("b", 10), ("c", 5)]


def test_round_robin_moves_on() -> None:
    history = RingHistory()
    step = _step("round_robin", overall=100)
    first = ring_attempts(step, lambda m: True, history)
    history.note_attempted(step.target, step.members, first[0].members[0])
    second = ring_attempts(step, lambda m: True, history)
    assert [a.members[0].user for a in first] == ["a", "b", "c"]
    assert [a.members[0].user for a in second] == ["b", "c", "a"]


def test_longest_idle_first_and_skips_busy() -> None:
    history = RingHistory()
    history.note_call_ended("a", 100.0)
    history.note_call_ended("c", 50.0)
    attempts = ring_attempts(_step("longest_idle", overall=100), lambda m: True, history)
    assert [a.members[0].user for a in attempts] == ["b", "c", "a"]
    nobody = ring_attempts(_step("longest_idle"), lambda m: False, history)
    assert nobody == []
