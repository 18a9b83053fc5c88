"""The command line dispatcher finds every command module."""

from __future__ import annotations

import pytest

from ari_app.cli import build_parser, main


def test_every_command_is_registered() -> None:
    parser = build_parser()
    text = parser.format_help()
    assert "demo" in text


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: ari-app" in capsys.readouterr().err
