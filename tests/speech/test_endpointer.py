"""The endpointing state machine, driven by frame decisions and durations only."""

from __future__ import annotations

import pytest

from ari_app.media.endpointer import (
    Endpointer,
    EndpointerSettings,
    EndpointEvent,
    EndpointState,
)

SETTINGS = EndpointerSettings(
    start_ms=60, barge_in_ms=40, end_silence_ms=300, no_input_ms=1000, max_speech_ms=2000
)


def feed(ep: Endpointer, pattern: str, ms: int = 20) -> list[tuple[int, EndpointEvent]]:
    """Feed 's' (speech) / '.' (silence) frames; return (frame index, event) pairs."""
    out: list[tuple[int, EndpointEvent]] = []
    for i, ch in enumerate(pattern):
        out.extend((i, e) for e in ep.process(ch == "s", ms))
    return out


def test_start_then_end_after_silence() -> None:
    ep = Endpointer(SETTINGS)
    events = feed(ep, "....sss" + "s" * 10 + "." * 15 + "...")
    assert events == [(6, EndpointEvent.SPEECH_START), (31, EndpointEvent.SPEECH_END)]
    assert ep.speech_start_ms == 80
    assert ep.speech_end_ms == 340
    assert ep.state is EndpointState.DONE
    assert feed(ep, "ssss") == []


def test_short_blips_do_not_start_and_pauses_do_not_end() -> None:
    ep = Endpointer(SETTINGS)
    assert feed(ep, "s.ss.s.ss.") == []
    events = feed(ep, "sss" + "." * 14 + "s" + "." * 14)
    assert [e for _, e in events] == [EndpointEvent.SPEECH_START]
    assert ep.state is EndpointState.SPEAKING


def test_barge_in_only_while_playing_and_sooner() -> None:
    ep = Endpointer(SETTINGS)
    ep.playing = True
    events = feed(ep, "...ss")
    assert events == [(4, EndpointEvent.SPEECH_START), (4, EndpointEvent.BARGE_IN)]
    quiet = Endpointer(SETTINGS)
    assert feed(quiet, "...ss") == []


def test_no_input_counts_only_after_the_prompt() -> None:
    ep = Endpointer(SETTINGS)
    ep.playing = True
    assert feed(ep, "." * 100) == []
    ep.playing = False
    events = feed(ep, "." * 50)
    assert events == [(49, EndpointEvent.NO_INPUT)]
    assert ep.state is EndpointState.DONE


def test_max_speech_ends_a_long_utterance() -> None:
    ep = Endpointer(SETTINGS)
    events = feed(ep, "s" * 150)
    assert [e for _, e in events] == [EndpointEvent.SPEECH_START, EndpointEvent.SPEECH_END]
    assert events[-1][0] == 99  # 2000 ms from the first speech frame


def test_reset_starts_a_new_turn() -> None:
    ep = Endpointer(SETTINGS)
    feed(ep, "sss" + "." * 20)
    ep.reset()
    assert ep.state is EndpointState.WAITING
    assert ep.position_ms == 0
    assert [e for _, e in feed(ep, "sss")] == [EndpointEvent.SPEECH_START]


def test_bad_settings_and_durations_are_rejected() -> None:
    with pytest.raises(ValueError, match="end_silence_ms"):
        EndpointerSettings(end_silence_ms=0)
    with pytest.raises(ValueError, match="positive"):
        Endpointer().process(True, 0)
