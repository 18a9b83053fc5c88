"""Every kind of bad configuration is reported with its file, line and a readable message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ari_app.config import ConfigError, ConfigHolder, load_config
from ari_app.config.marked_yaml import ConfigProblem


@dataclass(frozen=True)
class Case:
    """Replace ``old`` by ``new`` in ``file``; expect ``message`` on the line containing ``at``."""

    id: str
    file: str
    old: str
    new: str
    at: str
    message: str


CASES = [
    Case(
        "bad-timezone",
        "lines.yaml",
        "America/New_York",
        "America/NewYork",
        "America/NewYork",
        "unknown time zone 'America/NewYork'",
    ),
    Case(
        "unknown-key-typo",
        "lines.yaml",
        "      voice: piper",
        "      voise: piper",
        "voise:",
        "unknown key 'voise' (did you mean 'voice'?)",
    ),
    Case(
        "unknown-day",
        "lines.yaml",
        "      wednesday:",
        "      wensday:",
        "wensday:",
        "unknown key 'wensday'",
    ),
    Case(
        "overlapping-ranges",
        "lines.yaml",
        'friday:    ["08:00-15:00"]',
        'friday:    ["08:00-15:00", "14:00-16:00"]',
        "friday:",
        "time ranges 08:00-15:00 and 14:00-16:00 overlap",
    ),
    Case(
        "end-before-start",
        "lines.yaml",
        '"09:00-13:00"',
        '"13:00-09:00"',
        "saturday:",
        "ends before it starts",
    ),
    Case(
        "unknown-target",
        "lines.yaml",
        "targets: [front_desk]  ",
        "targets: [front_dsk]  ",
        "front_dsk",
        "unknown team or user 'front_dsk'",
    ),
    Case(
        "unknown-member",
        "people.yaml",
        "members: [lena]",
        "members: [lena, bob]",
        "[lena, bob]",
        "unknown user 'bob'",
    ),
    Case(
        "team-without-members",
        "people.yaml",
        "members: [lena]",
        "members: []",
        "members: []",
        "at least 1 item",
    ),
    Case(
        "negative-timeout",
        "people.yaml",
        "attempt_timeout: 20\n    overall_timeout: 20\n    fallback",
        "attempt_timeout: -5\n    overall_timeout: 20\n    fallback",
        "attempt_timeout: -5",
        "greater than 0",
    ),
    Case(
        "duplicate-key",
        "lines.yaml",
        "      max_seconds: 120",
        "      max_seconds: 120\n      max_seconds: 60",
        "max_seconds: 60",
        "duplicate key 'max_seconds'",
    ),
    Case(
        "syntax-error",
        "people.yaml",
        "members: [maya, omar]",
        "members: [maya, omar",
        "members: [maya, omar",
        "YAML syntax error",
    ),
    Case("wrong-type-int", "lines.yaml", "rate: 165", "rate: fast", "rate: fast", "valid integer"),
    Case(
        "wrong-type-list",
        "lines.yaml",
        "sunday:    []",
        'sunday:    "10:00-12:00"',
        "sunday:",
        "valid list",
    ),
    Case(
        "unreadable-range",
        "lines.yaml",
        '"09:00-13:00"',
        '"9am-1pm"',
        "saturday:",
        "cannot read time range '9am-1pm'",
    ),
    Case(
        "impossible-time",
        "lines.yaml",
        '"09:00-13:00"',
        '"09:00-25:00"',
        "saturday:",
        "impossible time of day",
    ),
    Case(
        "bad-date",
        "lines.yaml",
        'date: "07-04"',
        'date: "02-30"',
        '"02-30"',
        "'02-30' is not a day of the year",
    ),
    Case(
        "bad-rule-month",
        "lines.yaml",
        "rule: fourth thursday of november",
        "rule: fourth thursday of novembre",
        "novembre",
        "'novembre' is not a month",
    ),
    Case(
        "closed-and-hours",
        "lines.yaml",
        'date: "12-24"\n        hours:',
        'date: "12-24"\n        closed: true\n        hours:',
        "name: Christmas Eve",
        "either 'closed: true' or 'hours: [...]'",
    ),
    Case(
        "no-date-or-rule",
        "lines.yaml",
        '        date: "07-04"\n',
        "",
        "name: Independence Day",
        "exactly one of 'date' or 'rule'",
    ),
    Case(
        "unknown-fallback",
        "people.yaml",
        "fallback: front_desk",
        "fallback: reception",
        "fallback: reception",
        "unknown team 'reception'",
    ),
    Case(
        "fallback-cycle",
        "people.yaml",
        "overall_timeout: 20               # seconds the team rings in total",
        "overall_timeout: 20\n    fallback: billing",
        "fallback: billing",
        "go round in a circle",
    ),
    Case(
        "secret-in-yaml",
        "app.yaml",
        "  password_env: ARI_PASSWORD",
        "  password: hunter2",
        "password: hunter2",
        "secrets never go in YAML",
    ),
    Case(
        "bad-url",
        "app.yaml",
        "url: http://127.0.0.1:8088",
        "url: 127.0.0.1:8088",
        "url: 127.0.0.1:8088",
        "must start with http://",
    ),
    Case(
        "bad-strategy",
        "people.yaml",
        "strategy: ringall",
        "strategy: random",
        "strategy: random",
        "'ringall', 'sequential', 'round_robin' or 'longest_idle'",
    ),
    Case(
        "unknown-placeholder",
        "lines.yaml",
        "We open again {next_opening}",
        "We open again {opening}",
        "greeting_after_hours",
        "unknown placeholder {opening}",
    ),
    Case(
        "overnight-collides",
        "lines.yaml",
        'thursday:  ["08:00-12:30", "13:30-18:00"]',
        'thursday:  ["08:00-12:30", "13:30-18:00", "22:00-09:00+1"]',
        "hours:",
        "thursday 22:00-09:00+1 runs into friday 08:00-15:00",
    ),
    Case(
        "missing-required",
        "lines.yaml",
        "    routing:\n      in_hours: ai_first",
        "    routing_rules:\n      in_hours: ai_first",
        "routing_rules:",
        "unknown key 'routing_rules'",
    ),
    Case(
        "bad-endpoint",
        "people.yaml",
        "endpoint: PJSIP/201",
        "endpoint: PJSIP201",
        "endpoint: PJSIP201",
        'written TECH/resource, like "PJSIP/201"',
    ),
    Case(
        "name-both-user-and-team",
        "people.yaml",
        "  billing:\n",
        "  lena:\n",
        "  lena:\n    name: Billing",
        "names both a user and a team",
    ),
    Case(
        "top-level-list", "people.yaml", "users:\n", "- users\nx:\n", "- users", "YAML syntax error"
    ),
    Case(
        "negative-max-turns",
        "lines.yaml",
        "max_failed_turns: 2",
        "max_failed_turns: -1",
        "max_failed_turns: -1",
        "greater than 0",
    ),
]


def _line_of(text: str, needle: str) -> int:
    position = text.find(needle)
    assert position >= 0, f"{needle!r} not in mutated text"
    return text.count("\n", 0, position) + 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_yaml_names_file_line_and_reason(config_dir: Path, case: Case) -> None:
    path = config_dir / case.file
    original = path.read_text()
    assert case.old in original, f"case {case.id} no longer matches the sample config"
    mutated = original.replace(case.old, case.new, 1)
    path.write_text(mutated)
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    problems = caught.value.problems
    matching = [p for p in problems if case.message in p.message]
    assert matching, f"no problem says {case.message!r}: {[str(p) for p in problems]}"
    problem = matching[0]
    assert problem.file == path
    assert problem.line == _line_of(mutated, case.at), str(problem)
    assert str(problem).startswith(f"{path}:{problem.line}:")


def test_sample_config_is_valid(config_dir: Path) -> None:
    config = load_config(config_dir)
    assert set(config.lines) == {"main"}
    assert set(config.teams) == {"front_desk", "billing"}
    assert config.teams["billing"].fallback == "front_desk"


def test_empty_file_is_an_error(config_dir: Path) -> None:
    (config_dir / "lines.yaml").write_text("# nothing here yet\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    [problem] = caught.value.problems
    assert problem.file.name == "lines.yaml"
    assert problem.message.startswith("file is empty")


def test_missing_file_is_an_error(config_dir: Path) -> None:
    (config_dir / "people.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    assert [p.message for p in caught.value.problems] == ["file not found"]


def test_all_errors_of_a_file_are_listed_at_once(config_dir: Path) -> None:
    path = config_dir / "lines.yaml"
    text = path.read_text()
    text = text.replace("America/New_York", "Mars/Olympus")
    text = text.replace("rate: 165", "rate: 5")
    text = text.replace("      voice: piper", "      voise: piper")
    text = text.replace("      max_seconds: 120", "      max_seconds: 120\n      max_seconds: 9")
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 4, messages
    lines = [p.line or 0 for p in caught.value.problems]
    assert lines == sorted(lines)


def test_missing_required_key(config_dir: Path) -> None:
    path = config_dir / "lines.yaml"
    text = path.read_text()
    start = text.index("    voicemail:")
    path.write_text(text[:start])
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    [problem] = caught.value.problems
    assert problem.message == "missing required key 'voicemail'"
    assert problem.key_path == "lines.main"
    assert problem.line == _line_of(text, "  main:")


def test_problem_renders_file_line_and_key() -> None:
    problem = ConfigProblem(Path("config/lines.yaml"), 7, "lines.main.timezone", "bad")
    assert str(problem) == "config/lines.yaml:7: lines.main.timezone: bad"


def test_reload_keeps_last_good_config(config_dir: Path) -> None:
    holder = ConfigHolder(config_dir)
    good = holder.current
    path = config_dir / "lines.yaml"
    path.write_text(path.read_text().replace("America/New_York", "Nowhere/Town"))
    error = holder.reload()
    assert error is not None
    assert "Nowhere/Town" in str(error)
    assert holder.current is good
    assert holder.generation == 1
    path.write_text(path.read_text().replace("Nowhere/Town", "America/Chicago"))
    assert holder.reload() is None
    assert holder.current.lines["main"].timezone == "America/Chicago"
    assert holder.generation == 2
