"""Evaluation of the answer engine on a labelled set of caller questions.

A set is YAML: ``at`` (the moment the questions are asked) and ``cases``, each with
``expect`` (an entry id, ``person``, ``custom_phrase`` or ``none`` for out of scope), a
``tag`` and a list of ``questions``. The report gives top-1 accuracy, the confident-wrong
rate, the false-handoff rate and person-request recall, overall and per tag.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

import yaml

from ari_app.answer.engine import Analysis, AnswerEngine, Verdict
from ari_app.answer.intents import IntentKind
from ari_app.errors import AriAppError, Stage

PERSON = "person"
CUSTOM = "custom_phrase"
NONE = "none"

TARGETS = {
    "top1": (">=", 0.95),
    "confident_wrong": ("<=", 0.02),
    "false_handoff": ("<=", 0.02),
    "person_recall": (">=", 0.99),
}


class EvalSetError(AriAppError):
    """The evaluation set could not be read."""

    stage = Stage.ANSWER


@dataclass(frozen=True)
class Case:
    """One labelled question."""

    question: str
    expect: str
    tag: str


@dataclass(frozen=True)
class EvalSet:
    """The questions and the moment they are asked."""

    cases: tuple[Case, ...]
    at: datetime
    source: str


def default_set_path() -> Path:
    """The Harbour Light Dental set shipped inside the package."""
    return Path(str(resources.files("ari_app.answer") / "eval" / "harbour_light.yaml"))


def load_eval_set(path: Path) -> EvalSet:
    """Read an evaluation set file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalSetError(f"{path}: cannot read the evaluation set: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise EvalSetError(f"{path}: expected a mapping with 'at' and a list 'cases'")
    try:
        at = datetime.fromisoformat(str(data["at"]))
    except (KeyError, ValueError) as exc:
        raise EvalSetError(f"{path}: 'at' must be an ISO 8601 moment with an offset") from exc
    if at.tzinfo is None:
        raise EvalSetError(f"{path}: 'at' needs a UTC offset, like 2026-12-01T10:30:00-05:00")
    cases: list[Case] = []
    for number, group in enumerate(data["cases"], 1):
        if not isinstance(group, dict) or not isinstance(group.get("questions"), list):
            raise EvalSetError(f"{path}: case {number} needs 'expect' and a list 'questions'")
        expect = str(group.get("expect", ""))
        tag = str(group.get("tag", "paraphrase"))
        cases.extend(Case(str(q), expect, tag) for q in group["questions"])
    return EvalSet(tuple(cases), at, str(path))


@dataclass(frozen=True)
class Outcome:
    """What the engine did with one case."""

    case: Case
    analysis: Analysis

    @property
    def answered(self) -> str | None:
        """The entry id answered confidently, or None."""
        a = self.analysis
        return a.entry_id if a.verdict is Verdict.CONFIDENT else None

    @property
    def top1(self) -> str | None:
        """The best entry regardless of confidence (None when an intent took the turn)."""
        return self.analysis.entry_id

    @property
    def correct(self) -> bool:
        """Whether the outcome is what the label asks for."""
        kind = self.analysis.intent.kind
        if self.case.expect == PERSON:
            return kind is IntentKind.PERSON
        if self.case.expect == CUSTOM:
            return kind is IntentKind.CUSTOM_PHRASE
        if self.case.expect == NONE:
            return self.answered is None
        return self.answered == self.case.expect

    @property
    def label(self) -> str:
        """The outcome in a few words."""
        a = self.analysis
        if a.verdict is Verdict.INTENT:
            phrase = f":{a.intent.phrase}" if a.intent.phrase else ""
            return f"intent {a.intent.kind}{phrase}"
        return f"{a.verdict} {a.entry_id} ({a.confidence:.2f}, margin {a.margin:.2f})"


@dataclass
class Report:
    """The figures of one evaluation run."""

    outcomes: list[Outcome] = field(default_factory=list)

    def _of(self, *, expect_entry: bool | None = None, expect: str | None = None) -> list[Outcome]:
        out = self.outcomes
        if expect_entry is not None:
            out = [o for o in out if (o.case.expect not in (PERSON, CUSTOM, NONE)) == expect_entry]
        if expect is not None:
            out = [o for o in out if o.case.expect == expect]
        return out

    @staticmethod
    def _rate(hits: int, total: int) -> float:
        return hits / total if total else 0.0

    @property
    def in_scope(self) -> list[Outcome]:
        """Cases whose label is a knowledge-base entry."""
        return self._of(expect_entry=True)

    def figures(self) -> dict[str, float]:
        """Every rate of the report, by name."""
        scope = self.in_scope
        answered = [o for o in self.outcomes if o.answered is not None]
        wrong = [o for o in answered if o.answered != o.case.expect]
        person = self._of(expect=PERSON)
        custom = self._of(expect=CUSTOM)
        out = self._of(expect=NONE)
        not_person = [o for o in self.outcomes if o.case.expect != PERSON]
        return {
            "top1": self._rate(sum(o.top1 == o.case.expect for o in scope), len(scope)),
            "answered_correct": self._rate(
                sum(o.answered == o.case.expect for o in scope), len(scope)
            ),
            "confident_wrong": self._rate(len(wrong), len(self.outcomes)),
            "wrong_among_answers": self._rate(len(wrong), len(answered)),
            "false_handoff": self._rate(sum(o.answered is None for o in scope), len(scope)),
            "person_recall": self._rate(
                sum(o.analysis.intent.kind is IntentKind.PERSON for o in person), len(person)
            ),
            "false_person": self._rate(
                sum(o.analysis.intent.kind is IntentKind.PERSON for o in not_person),
                len(not_person),
            ),
            "custom_phrase_recall": self._rate(sum(o.correct for o in custom), len(custom)),
            "out_of_scope_rejected": self._rate(sum(o.correct for o in out), len(out)),
        }

    def per_tag(self) -> dict[str, tuple[int, int]]:
        """Correct and total cases per tag."""
        tags: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            tags[o.case.tag][0] += int(o.correct)
            tags[o.case.tag][1] += 1
        return {tag: (c, n) for tag, (c, n) in tags.items()}

    def misses(self) -> list[Outcome]:
        """Cases the engine got wrong."""
        return [o for o in self.outcomes if not o.correct]

    def meets_targets(self) -> bool:
        """Whether every headline figure meets its target."""
        figures = self.figures()
        for name, (op, bound) in TARGETS.items():
            value = figures[name]
            if (op == ">=" and value < bound) or (op == "<=" and value > bound):
                return False
        return True


def run_eval(engine: AnswerEngine, eval_set: EvalSet) -> Report:
    """Analyse every case of ``eval_set`` at its moment."""
    report = Report()
    for case in eval_set.cases:
        report.outcomes.append(Outcome(case, engine.analyse(case.question, eval_set.at)))
    return report


def format_report(report: Report, eval_set: EvalSet, show_misses: bool = True) -> str:
    """The report as text for the terminal."""
    figures = report.figures()
    lines = [
        f"evaluation set: {eval_set.source}",
        f"questions: {len(report.outcomes)} ({len(report.in_scope)} answerable, "
        f"{len([o for o in report.outcomes if o.case.expect == PERSON])} person requests, "
        f"{len([o for o in report.outcomes if o.case.expect == CUSTOM])} handoff phrases, "
        f"{len([o for o in report.outcomes if o.case.expect == NONE])} out of scope)",
        "",
    ]
    names = {
        "top1": "top-1 accuracy (answerable)",
        "answered_correct": "answered with the right entry",
        "confident_wrong": "confident-wrong rate (all questions)",
        "wrong_among_answers": "wrong among confident answers",
        "false_handoff": "false-handoff rate (answerable)",
        "person_recall": "person-request recall",
        "false_person": "false person detections",
        "custom_phrase_recall": "handoff-phrase recall",
        "out_of_scope_rejected": "out-of-scope not answered",
    }
    for key, title in names.items():
        target = ""
        if key in TARGETS:
            op, bound = TARGETS[key]
            target = f"   target {op} {bound:.0%}"
        lines.append(f"  {title:<40} {figures[key]:7.1%}{target}")
    lines.append("")
    lines.append("per tag (correct / total):")
    for tag, (c, n) in sorted(report.per_tag().items()):
        lines.append(f"  {tag:<16} {c:4d} / {n:<4d}")
    misses = report.misses()
    if show_misses and misses:
        lines.append("")
        lines.append(f"misses ({len(misses)}):")
        for o in misses:
            lines.append(f"  [{o.case.expect}] {o.case.question!r} -> {o.label}")
    lines.append("")
    lines.append("all targets met" if report.meets_targets() else "TARGETS MISSED")
    return "\n".join(lines)
