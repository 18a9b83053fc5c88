"""Hostile and broken configuration: each is a file:line problem, never a traceback or hang.

Issue 14: #3 (the knowledge base is configuration), #8 (bounded YAML), #12 (.inf/NaN in
any number), #17 (no password in ari.url). Every test here fails on 84284e2.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

from ari_app import counters
from ari_app.cli import main
from ari_app.config import ConfigError, ConfigHolder, load_config
from ari_app.config import models as config_models
from ari_app.config.models import Config


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` (once) by ``new``; the 1-based line where ``new`` starts."""
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return text[: text.index(old)].count("\n") + 1


def problems(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    return [str(p) for p in caught.value.problems]


KB_LINE = "      knowledge_base: knowledge        # folder beside this file"


# --- #3 the knowledge base ------------------------------------------------------------


def test_missing_knowledge_base_is_a_config_error(config_dir: Path) -> None:
    """Fault #3: a missing KB folder passed check-config; every AI call then failed."""
    line = edit(config_dir / "lines.yaml", KB_LINE, "      knowledge_base: faq")
    found = problems(config_dir)
    assert any(
        f"lines.yaml:{line}: lines.main.ai_agent.knowledge_base:" in p and "not found" in p
        for p in found
    ), found


@pytest.mark.parametrize("folder", ["../../etc", "/etc", "knowledge/../../..", "~/kb"])
def test_knowledge_base_outside_the_config_dir_is_refused(config_dir: Path, folder: str) -> None:
    """Fault #3: ``knowledge_base: ../../etc`` and ``/etc`` were accepted."""
    line = edit(config_dir / "lines.yaml", KB_LINE, f"      knowledge_base: {folder}")
    found = problems(config_dir)
    assert any(f"lines.yaml:{line}: lines.main.ai_agent.knowledge_base:" in p for p in found)


def test_knowledge_base_symlinked_out_of_the_config_dir_is_refused(
    config_dir: Path, tmp_path: Path
) -> None:
    """Fault #3: the folder must really be inside the config directory."""
    outside = tmp_path / "elsewhere"
    (config_dir / "knowledge").rename(outside)
    (config_dir / "knowledge").symlink_to(outside)
    found = problems(config_dir)
    assert any("outside the config directory" in p for p in found), found


def test_malformed_knowledge_yaml_names_its_file_and_line(config_dir: Path) -> None:
    """Fault #3: malformed KB YAML passed check-config."""
    kb = config_dir / "knowledge" / "money.yaml"
    line = edit(kb, "  - id: insurance\n", "  - id: insurance\n    questions: [unclosed\n")
    found = problems(config_dir)
    assert any(str(kb) in p and "not valid YAML" in p for p in found), found
    assert any(p.startswith(f"{kb}:{line + 1}") or p.startswith(f"{kb}:") for p in found)


@pytest.mark.parametrize(
    "answer",
    ["See https://harbourlight.example/faq for details.", "Book at www.harbourlight.example."],
)
def test_an_answer_with_a_url_is_a_config_error(config_dir: Path, answer: str) -> None:
    """Fault #3: an answer with a URL was accepted (the voice cannot read it out)."""
    kb = config_dir / "knowledge" / "extra.yaml"
    kb.write_text(
        "entries:\n  - id: website\n    questions:\n      - Do you have a website?\n"
        f"    answer: {answer}\n"
    )
    found = problems(config_dir)
    assert f"{kb}:5: answer contains a web address; answers are spoken, so say where to " in (
        "\n".join(found)
    )


def test_markdown_knowledge_problems_are_reported_too(config_dir: Path) -> None:
    """Fault #3: Markdown KB files are validated with the config as well."""
    kb = config_dir / "knowledge" / "extra.md"
    kb.write_text("## Bad Id\n- question?\n\nAn answer.\n")
    assert any(f"{kb}:1: id 'Bad Id'" in p for p in problems(config_dir))


def test_check_config_reports_a_broken_knowledge_base(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault #3: ``check-config`` said OK for a broken knowledge base."""
    (config_dir / "knowledge" / "money.yaml").write_text("entries: [\n")
    assert main(["check-config", "-c", str(config_dir)]) == 1
    err = capsys.readouterr().err
    assert "money.yaml:" in err
    assert "Traceback" not in err


def test_reload_with_a_broken_knowledge_base_keeps_the_last_good_config(
    config_dir: Path,
) -> None:
    """Fault #3: a SIGHUP reload accepted a broken knowledge base."""
    holder = ConfigHolder(config_dir)
    good = holder.current
    before = counters.CONFIG_RELOAD_FAILURES.value()
    (config_dir / "knowledge" / "patients.yaml").write_text("entries:\n  - id: x\n")
    error = holder.reload()
    assert error is not None
    assert any("patients.yaml:2" in str(p) for p in error.problems)
    assert holder.current is good
    assert holder.generation == 1
    assert counters.CONFIG_RELOAD_FAILURES.value() == before + 1


def test_config_reads_the_knowledge_base_without_importing_the_answer_layer() -> None:
    """Imports run call -> answer -> config: the KB reader lives in config, no cycle."""
    code = (
        "import sys, ari_app.config, ari_app.config.knowledge; "
        "print(sorted(m for m in sys.modules if m.startswith('ari_app.answer')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- #8 bounded YAML -------------------------------------------------------------------


BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("bad-date", "x: 1\ny: 2026-13-45\n", 2, "cannot read the value '2026-13-45'"),
        ("recursive-alias", "x: 1\ny: &a [1, *a]\n", 2, "an alias refers to a value"),
        ("recursive-map", "a: &m {b: {c: *m}}\n", 1, "an alias refers to a value"),
        ("5000-brackets", "x: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nested more than"),
        ("deep-block", "".join("  " * i + "k:\n" for i in range(60)), 41, "nested more than"),
        ("billion-laughs", BOMB, None, "once aliases are expanded"),
        ("huge-int", "x: " + "9" * 5000 + "\n", 1, "cannot read the value"),
    ],
)
def test_hostile_yaml_gives_a_located_problem(
    config_dir: Path, name: str, text: str, line: int | None, message: str
) -> None:
    """Fault #8: these gave tracebacks (ValueError, RecursionError) or grew to gigabytes."""
    (config_dir / "people.yaml").write_text(text)
    found = [p for p in problems(config_dir) if "people.yaml" in p]
    assert any(message in p for p in found), (name, found)
    if line is not None:
        assert any(f"people.yaml:{line}:" in p and message in p for p in found), (name, found)


def test_a_bad_date_in_an_exception_is_located(config_dir: Path) -> None:
    """Fault #8: ``date: 2026-13-45`` (unquoted, so YAML reads a date) was a traceback."""
    line = edit(config_dir / "lines.yaml", 'date: "12-25"', "date: 2026-13-45")
    found = problems(config_dir)
    assert any(f"lines.yaml:{line}:" in p and "2026-13-45" in p for p in found), found


async def test_a_reload_reads_in_a_worker_thread(config_dir: Path) -> None:
    """Fault #8: a reload (SIGHUP) parsed YAML on the event loop, blocking every call."""
    holder = ConfigHolder(config_dir)
    (config_dir / "people.yaml").write_text(BOMB)
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = holder._load

    def spy() -> Config | ConfigError:
        seen.append(threading.get_ident())
        return original()

    holder._load = spy  # type: ignore[method-assign]
    error = await holder.request_reload()
    assert error is not None
    assert "once aliases are expanded" in str(error)
    assert seen
    assert loop_thread not in seen
    assert holder.generation == 1


# --- #12 .inf / NaN -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("lines.yaml", "silence_seconds: 5", "silence_seconds: .inf"),
        ("lines.yaml", "silence_seconds: 5", "silence_seconds: .nan"),
        ("people.yaml", "overall_timeout: 20               #", "overall_timeout: .inf  #"),
        ("people.yaml", "attempt_timeout: 20               #", "attempt_timeout: .NaN  #"),
    ],
)
def test_infinity_and_nan_are_refused(config_dir: Path, file: str, old: str, new: str) -> None:
    """Fault #12: ``silence_seconds: .inf``, ``overall_timeout: .inf`` were accepted."""
    line = edit(config_dir / file, old, new)
    found = problems(config_dir)
    assert any(f"{file}:{line}:" in p and "finite" in p for p in found), found


def _models(root: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if root in seen:
        return
    seen.add(root)
    for field in root.model_fields.values():
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _models(annotation, seen)
            stack.extend(getattr(annotation, "__args__", ()))
            stack.extend(getattr(annotation, "__metadata__", ()))


def test_every_config_model_refuses_infinity() -> None:
    """Fault #12 as a class: every model reachable from Config refuses inf/NaN numbers."""
    seen: set[type[BaseModel]] = set()
    _models(config_models.Config, seen)
    assert len(seen) > 15
    lenient = [m.__name__ for m in seen if m.model_config.get("allow_inf_nan") is not False]
    assert lenient == []


# --- #17 no password in ari.url ----------------------------------------------------------


def test_a_password_in_the_ari_url_is_refused_and_never_echoed(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault #17: ``http://user:pw@host`` was accepted, then printed by run and check-config."""
    line = edit(
        config_dir / "app.yaml",
        "url: http://127.0.0.1:8088",
        "url: http://ari_app:s3cret-Pa55@127.0.0.1:8088",
    )
    assert main(["check-config", "-c", str(config_dir)]) == 1
    captured = capsys.readouterr()
    assert f"app.yaml:{line}: ari.url:" in captured.err
    assert "must not contain a user or password" in captured.err
    assert "s3cret-Pa55" not in captured.err + captured.out


def test_a_password_in_a_url_of_the_wrong_scheme_is_masked(config_dir: Path) -> None:
    """Fault #17: where the URL is echoed (bad scheme), its password is masked."""
    edit(config_dir / "app.yaml", "url: http://127.0.0.1:8088", "url: ftp://u:s3cret@h")
    found = "\n".join(problems(config_dir))
    assert "s3cret" not in found
    assert "ftp://***@h" in found
