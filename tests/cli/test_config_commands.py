"""``ari-app check-config`` and ``ari-app route`` as an administrator runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ari_app.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_check_config_passes_on_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "-c", str(CONFIG)]) == 0
    assert "OK — 1 line(s) (main), 2 team(s), 3 user(s)" in capsys.readouterr().out


def test_check_config_lists_problems_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config"
    shutil.copytree(CONFIG, bad, ignore=shutil.ignore_patterns("knowledge"))
    lines = bad / "lines.yaml"
    lines.write_text(lines.read_text().replace("America/New_York", "Europe/Atlantis"))
    assert main(["check-config", "-c", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{lines}:7: lines.main.timezone: unknown time zone 'Europe/Atlantis'" in err
    assert "1 problem(s)" in err


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (
            "2026-12-01T10:30",
            ["OPEN — Tuesday 08:00-12:30", "2. ring team Front desk", "3. voicemail"],
        ),
        (
            "2026-12-01T23:30",
            [
                "CLOSED — after today's hours",
                "(tomorrow, Wednesday, at 8 AM)",
                "AI agent (after hours",
                "We open again tomorrow, Wednesday, at 8 AM",
            ],
        ),
        (
            "2026-12-25T10:30",
            ["CLOSED — Christmas Day", "next opening: Monday 2026-12-28 08:00 EST"],
        ),
    ],
)
def test_route_three_moments(
    moment: str, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "-c", str(CONFIG), "--line", "main", "--at", moment]) == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_route_reads_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    # 15:30 UTC is 10:30 in New York in December.
    assert (
        main(["route", "-c", str(CONFIG), "--line", "main", "--at", "2026-12-01T15:30+00:00"]) == 0
    )
    assert "at Tuesday 2026-12-01 10:30 EST" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--line", "sales", "--at", "2026-12-01T10:30"],
            "unknown line 'sales'; known lines: main",
        ),
        (["--line", "main", "--at", "yesterday"], "cannot read time 'yesterday'"),
    ],
)
def test_route_errors_are_one_line_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "-c", str(CONFIG), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("ari-app")
    result = subprocess.run(
        [str(exe), "route", "-c", str(CONFIG), "--line", "main", "--at", "2026-11-26T10:30"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "CLOSED — Thanksgiving" in result.stdout
