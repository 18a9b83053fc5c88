"""The AI-unavailable branch of the plan, recorded greetings, notification recipients,
the AI capacity counter, and ``ari-app route`` showing all of them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_app.call.capacity import AiCapacity
from ari_app.call.events import CallEventType
from ari_app.cli import main
from ari_app.config import Config
from ari_app.config.channel import NotifyTargets
from ari_app.routing.plan import (
    AI_UNAVAILABLE_REASONS,
    AiAgentStep,
    Audio,
    RingStep,
    VoicemailStep,
    plan_call,
)
from ari_app.routing.recipients import voicemail_recipients

NEW_YORK = ZoneInfo("America/New_York")
OPEN = datetime(2026, 12, 1, 10, 30, tzinfo=NEW_YORK)
CLOSED = datetime(2026, 12, 1, 23, 30, tzinfo=NEW_YORK)
SAMPLE = Path(__file__).resolve().parents[2] / "config"


def with_line(config: Config, **ai: object) -> Config:
    """``config`` with the main line's ai_agent settings changed."""
    line = config.lines["main"]
    changed = line.model_copy(update={"ai_agent": line.ai_agent.model_copy(update=ai)})
    return config.model_copy(update={"lines": {"main": changed}})


def test_reasons_are_the_five_the_product_names() -> None:
    assert AI_UNAVAILABLE_REASONS == ("off", "capacity", "models_failed", "kb_broken", "draining")


@pytest.mark.parametrize("reason", AI_UNAVAILABLE_REASONS)
def test_in_hours_unavailable_rings_its_targets_then_voicemail(config: Config, reason: str) -> None:
    billing_only = with_line(
        config,
        unavailable=config.lines["main"].ai_agent.unavailable.model_copy(
            update={"targets": ["billing"]}
        ),
    )
    plan = plan_call(billing_only, "main", OPEN, ai_unavailable=reason)  # type: ignore[arg-type]
    assert plan.ai_unavailable == reason
    assert [type(s) for s in plan.steps] == [RingStep, RingStep, VoicemailStep]
    # billing, then billing's own fallback (front desk): the unavailable targets, not routing's
    assert [s.target for s in plan.ring_steps] == ["billing", "front_desk"]
    assert plan.voicemail.greeting_audio == Audio(
        "sounds/voicemail-in-hours.wav", SAMPLE / "sounds" / "voicemail-in-hours.wav"
    )


def test_unavailable_targets_default_to_routing_targets_and_topics_do_not_apply(
    config: Config,
) -> None:
    plain = with_line(
        config,
        unavailable=config.lines["main"].ai_agent.unavailable.model_copy(update={"targets": None}),
    )
    plan = plan_call(plain, "main", OPEN, topic="billing", ai_unavailable="capacity")
    assert [s.target for s in plan.ring_steps] == ["front_desk"]


def test_after_hours_unavailable_goes_straight_to_voicemail(config: Config) -> None:
    plan = plan_call(config, "main", CLOSED, ai_unavailable="models_failed")
    assert plan.ai_unavailable == "models_failed"
    assert [type(s) for s in plan.steps] == [VoicemailStep]
    assert plan.voicemail.after_hours
    assert "tomorrow, Wednesday, at 8 AM" in plan.voicemail.greeting


def test_ai_turned_off_is_the_reason_off(config: Config) -> None:
    off = with_line(config, enabled=False)
    assert plan_call(off, "main", OPEN).ai_unavailable == "off"
    assert plan_call(off, "main", CLOSED).ai_unavailable == "off"
    assert plan_call(config, "main", OPEN).ai_unavailable is None


def test_people_first_line_is_not_unavailable_in_hours(config: Config) -> None:
    line = config.lines["main"]
    people_first = line.model_copy(
        update={"routing": line.routing.model_copy(update={"in_hours": "people_first"})}
    )
    changed = config.model_copy(update={"lines": {"main": people_first}})
    plan = plan_call(changed, "main", OPEN, ai_unavailable="capacity")
    assert plan.ai_unavailable is None
    assert [s.target for s in plan.ring_steps] == ["front_desk"]


def test_recorded_greetings_reach_the_plan(config: Config) -> None:
    changed = with_line(config, greeting_audio="sound:custom/welcome")
    first = plan_call(changed, "main", OPEN).steps[0]
    assert isinstance(first, AiAgentStep)
    assert first.greeting_audio is not None
    assert first.greeting_audio.sound == "sound:custom/welcome"
    assert first.greeting_audio.path is None
    after = plan_call(config, "main", CLOSED).voicemail
    assert after.greeting_audio is None  # the sample's after-hours greeting is synthesised


def test_recipients_of_a_line(config: Config) -> None:
    recipients = voicemail_recipients(config, "main")
    # the line's own, then the front desk team's (the line's routing target)
    assert recipients.channels == (
        "email:office@harbourlight.example",
        "email:frontdesk@harbourlight.example",
    )
    app = config.app
    hooks = app.notifications.model_copy(
        update={"notify": NotifyTargets(webhooks=["crm"], email=["OFFICE@harbourlight.example"])}
    )
    changed = config.model_copy(update={"app": app.model_copy(update={"notifications": hooks})})
    assert voicemail_recipients(changed, "main").channels == (
        "webhook:crm",
        "email:office@harbourlight.example",
        "email:frontdesk@harbourlight.example",
    )
    off = config.model_copy(
        update={
            "app": app.model_copy(
                update={"notifications": app.notifications.model_copy(update={"enabled": False})}
            )
        }
    )
    assert voicemail_recipients(off, "main").channels == ()


def test_capacity_per_line_and_in_all() -> None:
    seats = AiCapacity()
    assert seats.try_acquire("c1", "main", line_limit=2, total_limit=3)
    assert seats.try_acquire("c2", "main", line_limit=2, total_limit=3)
    assert not seats.try_acquire("c3", "main", line_limit=2, total_limit=3)
    assert seats.try_acquire("c4", "sales", line_limit=None, total_limit=3)
    assert not seats.try_acquire("c5", "sales", line_limit=None, total_limit=3)
    assert seats.try_acquire("c1", "main", line_limit=2, total_limit=3)  # already seated
    assert (seats.in_use(), seats.in_use("main"), seats.in_use("sales")) == (3, 2, 1)
    seats.release("c1")
    seats.release("c1")  # twice is harmless
    assert seats.try_acquire("c3", "main", line_limit=2, total_limit=3)
    assert seats.in_use() == 3


def test_capacity_seat_is_given_back_at_handoff_or_end(config: Config) -> None:
    seats = AiCapacity()
    assert seats.try_acquire_for(config, "c1", "main")
    assert seats.try_acquire_for(config, "c2", "main")

    class Fake:
        def __init__(self, kind: CallEventType, call_id: str) -> None:
            self.type = kind
            self.call_id = call_id

    seats.on_event(Fake(CallEventType.CALLER_SAID, "c1"))  # type: ignore[arg-type]
    assert seats.in_use() == 2
    seats.on_event(Fake(CallEventType.HANDOFF, "c1"))  # type: ignore[arg-type]
    seats.on_event(Fake(CallEventType.ENDED, "c2"))  # type: ignore[arg-type]
    assert seats.in_use() == 0


def test_limits_come_from_the_config(config: Config) -> None:
    seats = AiCapacity()
    one = with_line(config, max_calls=1)
    assert seats.try_acquire_for(one, "a", "main")
    assert not seats.try_acquire_for(one, "b", "main")


def test_route_shows_the_unavailable_branch_messages_and_recipients(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["route", "-c", str(SAMPLE), "--line", "main", "--at", "2026-12-01T10:30"]) == 0
    out = capsys.readouterr().out
    assert "If the AI agent cannot take the call (off, capacity, models_failed" in out
    branch = out.split("If the AI agent cannot take the call")[1]
    assert "1. ring team Front desk" in branch
    assert '2. voicemail, greeting: recording sounds/voicemail-in-hours.wav ("Everyone' in branch
    assert (
        "Voicemail notifies: e-mail office@harbourlight.example, "
        "e-mail frontdesk@harbourlight.example" in out
    )


def test_route_with_ai_unavailable_after_hours(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["route", "-c", str(SAMPLE), "--line", "main", "--at", "2026-12-01T23:30"]
    assert main([*args, "--ai-unavailable", "capacity"]) == 0
    out = capsys.readouterr().out
    assert "AI agent unavailable: capacity" in out
    plan = out.split("Plan:")[1]
    assert "AI agent" not in plan.split("Voicemail notifies")[0]
    assert plan.strip().startswith('1. voicemail, greeting: "We are closed now.')
