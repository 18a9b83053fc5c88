"""How the whisper reads a caller's number to the agent."""

from __future__ import annotations

import pytest

from ari_app.call.session import spoken_number


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("+16175550111", "6 1 7, 5 5 5, 0 1 1 1"),
        ("6175550111", "6 1 7, 5 5 5, 0 1 1 1"),
        ("201", "2 0 1"),
        ("", "an unknown number"),
        ("anonymous", "an unknown number"),
    ],
)
def test_whisper_reads_the_caller_number(number: str, spoken: str) -> None:
    assert spoken_number(number) == spoken
