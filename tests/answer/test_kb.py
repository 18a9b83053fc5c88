"""Loading the knowledge base, and its errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.answer.kb import KnowledgeBaseError, load_knowledge_base
from ari_app.errors import Stage

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_knowledge_base_loads() -> None:
    kb = load_knowledge_base(CONFIG_DIR / "knowledge")
    ids = kb.ids
    assert {"address", "parking", "insurance", "hours", "booking", "emergency"} <= set(ids)
    assert len(ids) == len(set(ids))
    hours = kb.get("hours")
    assert hours.source == "hours"
    assert hours.answer == ""  # opening times never live in the knowledge base
    assert kb.get("booking").offer_handoff
    assert kb.get("emergency").answer_when_closed
    for entry in kb.entries:
        assert entry.file.endswith((".yaml", ".md"))
        assert entry.line > 0


def test_answers_are_written_for_the_ear() -> None:
    kb = load_knowledge_base(CONFIG_DIR / "knowledge")
    for entry in kb.entries:
        for text in (entry.answer, entry.answer_when_closed or ""):
            assert "http" not in text
            assert "www" not in text
            assert "617 555" not in text  # phone numbers are written as spoken digits


def test_web_address_in_answer_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "faq.yaml",
        """entries:
  - id: site
    questions:
      - Do you have a website?
    answer: See www.example.com for details.
""",
    )
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(tmp_path)
    assert f"{path}:5" in str(err.value)
    assert "web address" in str(err.value)
    assert err.value.stage is Stage.ANSWER


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "entries:\n  - id: x\n    questions: [q]\n    answer: A.\n")
    write(tmp_path, "b.yaml", "entries:\n  - id: x\n    questions: [q]\n    answer: B.\n")
    expected = r"b\.yaml:2: duplicate id 'x' \(first at .*a\.yaml:2\)"
    with pytest.raises(KnowledgeBaseError, match=expected):
        load_knowledge_base(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("entries:\n  - id: x\n    questions: [q]\n    answr: A.\n", r":4: unknown key 'answr'"),
        ("entries:\n  - id: x\n    questions: []\n    answer: A.\n", r":3: .*needs a list"),
        ("entries:\n  - id: x\n    questions: [q]\n", r":2: entry 'x' has no answer"),
        ("entries:\n  - id: Bad Id\n    questions: [q]\n    answer: A.\n", r":2: id 'Bad Id'"),
        ("entries:\n  - id: x\n    questions: [q\n", r":\d+: not valid YAML"),
        (
            "entries:\n  - id: x\n    questions: [q]\n    answer: A.\n    source: web\n",
            r":5: source must be",
        ),
    ],
)
def test_mistakes_are_reported_with_line(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "faq.yaml", text)
    with pytest.raises(KnowledgeBaseError, match=message):
        load_knowledge_base(tmp_path)


def test_long_sentence_is_refused(tmp_path: Path) -> None:
    long_answer = " ".join(["word"] * 40) + "."
    text = f"entries:\n  - id: x\n    questions: [q]\n    answer: {long_answer}\n"
    write(tmp_path, "faq.yaml", text)
    with pytest.raises(KnowledgeBaseError, match="sentence of 40 words"):
        load_knowledge_base(tmp_path)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="not found"):
        load_knowledge_base(tmp_path / "nope")
    with pytest.raises(KnowledgeBaseError, match="no entries"):
        load_knowledge_base(tmp_path)


def test_markdown_entries(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# not entries\n## Not An Id\n")
    write(
        tmp_path,
        "faq.md",
        """# Title, ignored
Some notes, ignored.

<!-- a comment -->
## parking
- Is there parking?
* Where can I park?

Yes, behind the building.
Use Derby Lane.

When closed: We are closed.
Call tomorrow.

## booking
- Can I book?

The front desk books.
Offer handoff: yes

## hours
- When are you open?
Source: hours
""",
    )
    kb = load_knowledge_base(tmp_path)
    assert kb.ids == ["parking", "booking", "hours"]
    parking = kb.get("parking")
    assert parking.questions == ("Is there parking?", "Where can I park?")
    assert parking.answer == "Yes, behind the building. Use Derby Lane."
    assert parking.answer_when_closed == "We are closed. Call tomorrow."
    assert parking.line == 5
    assert kb.get("booking").offer_handoff
    assert kb.get("hours").source == "hours"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("## x\n\nAn answer.\n", r"faq\.md:1: entry 'x' needs a list of questions"),
        ("## x\n- q\n", r"faq\.md:1: entry 'x' has no answer"),
        ("## Bad Id\n- q\nA.\n", r"faq\.md:1: id 'Bad Id'"),
        ("## x\n- q\nSee www.example.com.\n", r"faq\.md:3: answer contains a web address"),
        ("## x\n- q\nA.\nOffer handoff: maybe\n", r"faq\.md:4: Offer handoff must be"),
        ("## x\n- q\nA.\nSource: web\n", r"faq\.md:4: Source must be"),
    ],
)
def test_markdown_mistakes_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "faq.md", text)
    with pytest.raises(KnowledgeBaseError, match=message):
        load_knowledge_base(tmp_path)
