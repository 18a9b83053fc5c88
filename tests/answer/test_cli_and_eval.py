"""``ari-app ask`` and ``ari-app eval`` end to end, and the shape of the evaluation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.answer.evaluation import (
    CUSTOM,
    NONE,
    PERSON,
    EvalSetError,
    default_set_path,
    load_eval_set,
)
from ari_app.answer.kb import load_knowledge_base
from ari_app.answer.text import normalize
from ari_app.cli import main

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["ask", *args, "-c", str(CONFIG_DIR)])
    return code, capsys.readouterr().out


def test_ask_person(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = ask(capsys, "um can I just talk to a real person please")
    assert code == 0
    assert out.splitlines()[0] == "HANDOFF asked_for_person (confidence 1.00)"


def test_ask_saturday_hours(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = ask(capsys, "what time do you open on saturdays", "--at", "2026-12-01T10:30")
    assert code == 0
    first, second = out.splitlines()[:2]
    assert first.startswith("ANSWER hours (confidence ")
    assert second.startswith("On Saturdays, we are open from 9 AM to 1 PM.")


def test_ask_unknown_reports_handoff_with_topic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = ask(capsys, "there is a mistake on my invoice", "--at", "2026-12-01T10:30")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(("HANDOFF no_match", "HANDOFF low_confidence"))
    assert "topic: billing" in lines


def test_ask_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "hi", "--line", "nope", "-c", str(CONFIG_DIR)]) == 2
    assert "unknown line 'nope'" in capsys.readouterr().err
    assert main(["ask", "hi", "--at", "tuesday", "-c", str(CONFIG_DIR)]) == 2
    assert "cannot read time" in capsys.readouterr().err


def test_eval_meets_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "-c", str(CONFIG_DIR), "--quiet"])
    out = capsys.readouterr().out
    assert "top-1 accuracy" in out
    assert "person-request recall" in out
    assert code == 0, out
    assert out.rstrip().endswith("all targets met")


def test_eval_set_is_large_labelled_and_paraphrased() -> None:
    eval_set = load_eval_set(default_set_path())
    kb = load_knowledge_base(CONFIG_DIR / "knowledge")
    assert len(eval_set.cases) >= 150
    labels = {c.expect for c in eval_set.cases}
    assert labels <= set(kb.ids) | {PERSON, CUSTOM, NONE}
    tags = {c.tag for c in eval_set.cases}
    assert {"asr", "out_of_scope", "person", "paraphrase", "custom_phrase"} <= tags
    kb_questions = {normalize(q) for e in kb.entries for q in e.questions}
    copies = [c.question for c in eval_set.cases if normalize(c.question) in kb_questions]
    assert copies == []


def test_eval_set_errors(tmp_path: Path) -> None:
    bad = tmp_path / "set.yaml"
    bad.write_text("at: 2026-12-01T10:30\ncases: []\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="UTC offset"):
        load_eval_set(bad)
    bad.write_text("cases: 3\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="list 'cases'"):
        load_eval_set(bad)
