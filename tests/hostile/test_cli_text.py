"""Untrusted text in ``ari-app calls``, ``call`` and ``voicemails`` (issue 14 #9).

A caller chooses their caller id, and transcripts are whatever was said; on 84284e2 both
reached the terminal raw, so an ANSI escape could retitle the terminal or clear it, a CR/LF
forge a table row, a bidi override reverse what is shown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ari_app.cli import main
from ari_app.store import Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EVIL_CALLER = "\x1b]0;pwned\x07+1555\r\n2026-11-02 09:00:00  main  +1999  resolved\x00\u202e1234"
EVIL_TEXT = "hello\x1b[2J\x1b[31mRED\x9b0m \u2066iso\u2069 zero\u200bwidth \x7f"
FORBIDDEN = ["\x1b", "\x07", "\r", "\x00", "\x9b", "\x7f", "\u202e", "\u2066", "\u2069", "\u200b"]


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite3"
    async with Store(path) as store:
        await store.calls.start_call("evil", "main", EVIL_CALLER, "+15550000", T0)
        await store.calls.add_turn("evil", "caller", EVIL_TEXT, at=T0 + timedelta(seconds=1))
        await store.calls.finish_call("evil", "resolved", ended_at=T0 + timedelta(seconds=9))
        await store.voicemails.create_job(
            "vm-evil", call_id="evil", line="main", caller=EVIL_CALLER, recorded_at=T0
        )
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [["calls"], ["call", "evil"], ["voicemails"]])
def test_control_and_bidi_characters_never_reach_the_terminal(
    db: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault #9: ANSI escapes, CR/LF, NUL, C1 and bidi overrides were printed raw."""
    out = _run([*command, "--db", str(db)], capsys)
    for char in FORBIDDEN:
        assert char not in out, (command, repr(char))
    assert "\\x1b]0;pwned\\x07+1555\\x0d\\x0a2026-11-02" in out
    assert "\\u202e1234" in out
    assert "\n2026-11-02 09:00:00  main  +1999" not in out  # no forged row


@pytest.mark.parametrize("command", [["calls"], ["call", "evil"], ["voicemails"]])
def test_json_output_is_escaped_and_still_exact(
    db: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault #9: ``--json`` printed C1 controls and bidi overrides raw (ensure_ascii=False)."""
    out = _run([*command, "--db", str(db), "--json"], capsys)
    for char in FORBIDDEN:
        assert char not in out, (command, repr(char))
    data = json.loads(out)
    first = data[0] if isinstance(data, list) else data
    assert first["caller"] == EVIL_CALLER  # escaped for the terminal, exact for scripts
