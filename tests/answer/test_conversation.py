"""A whole conversation: engine, policy and knowledge gaps written to a real file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ari_app.answer.conversation import Conversation, policy_settings
from ari_app.answer.engine import AnswerEngine
from ari_app.answer.gaps import Gap, KnowledgeGaps
from ari_app.answer.policy import Action
from ari_app.config.models import Config

NOW = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/New_York"))


async def test_call_answers_then_hands_off_with_gaps_recorded(
    engine: AnswerEngine, config: Config, tmp_path: Path
) -> None:
    gaps = KnowledgeGaps(tmp_path / "gaps.jsonl")
    talk = Conversation(engine, policy_settings(config.lines["main"]), line="main", gaps=gaps)

    decision = await talk.hear("where can I park", NOW)
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "parking"
    decision = await talk.hear("yes", NOW)
    assert decision.action is Action.PROMPT
    decision = await talk.hear("do you do braces", NOW)
    assert decision.action is Action.REPHRASE
    assert decision.gap
    decision = await talk.hear("braces for my teeth", NOW)
    assert decision.action is Action.HANDOFF
    assert decision.reason in ("no_match", "low_confidence")

    saved = KnowledgeGaps.read(tmp_path / "gaps.jsonl")
    assert [g.question for g in saved] == ["do you do braces", "braces for my teeth"]
    assert all(g.line == "main" and g.at == NOW for g in saved)
    assert gaps.most_asked()[0][1] == 1
    assert gaps.recent()[0].question == "braces for my teeth"


async def test_silence_dtmf_and_booking_offer(engine: AnswerEngine, config: Config) -> None:
    talk = Conversation(engine, policy_settings(config.lines["main"]), line="main")
    assert talk.silence().action is Action.REPROMPT
    assert talk.silence().reason == "no_input"

    talk = Conversation(engine, policy_settings(config.lines["main"]))
    decision = await talk.hear("I'd like to book a cleaning", NOW)
    assert decision.entry_id == "booking"
    assert decision.say.endswith("Would you like me to put you through to them?")
    decision = await talk.hear("yes please", NOW)
    assert (decision.action, decision.reason) == (Action.HANDOFF, "asked_for_person")

    talk = Conversation(engine, policy_settings(config.lines["main"]))
    assert talk.dtmf("0").reason == "dtmf_0"


def test_gap_file_skips_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    good = Gap("main", "do you do braces", "whitening", 0.4, "no_match", NOW)
    path.write_text(good.to_json() + "\nnot json\n\n", encoding="utf-8")
    assert KnowledgeGaps.read(path) == [good]
    assert KnowledgeGaps.read(tmp_path / "missing.jsonl") == []
