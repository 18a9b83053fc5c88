"""The start of the caller's words when the VAD noticed them late: walked back over the sound
that leads into the detected start, by level, never into steady noise or an earlier remark."""

from __future__ import annotations

import numpy as np

from ari_app.media.onset import MAX_BACK_FRAMES, MAX_GAP_FRAMES, level_db, onset_index

SILENCE = 0.0
QUIET_WORD = 40.0
"""A quiet first word ("do you"): 40 dB above digital silence, which Silero may not flag."""
LOUD = 70.0


def test_levels_of_silence_and_of_a_tone() -> None:
    assert level_db(bytes(640)) == 0.0
    assert level_db(b"") == 0.0
    tone = (np.sin(np.arange(320) / 5) * 1000).astype("<i2").tobytes()
    assert 56.0 < level_db(tone) < 58.0  # an RMS of about 707


def test_a_quiet_first_word_before_the_detected_start_is_kept() -> None:
    # 10 frames of silence, "do you" (frames 10-19), a short gap, "see children" detected
    # at frame 25, as Silero did with a fresh state after the greeting.
    levels = [SILENCE] * 10 + [QUIET_WORD] * 10 + [SILENCE] * 5 + [LOUD] * 10
    assert onset_index(levels, 25) == 10


def test_the_sound_must_stand_out_from_steady_noise() -> None:
    noise = 45.0
    levels = [noise, noise + 3, noise - 2, noise + 1] * 5 + [LOUD] * 10
    assert onset_index(levels, 20) == 20


def test_a_long_pause_separates_an_earlier_remark() -> None:
    levels = [QUIET_WORD] * 5 + [SILENCE] * (MAX_GAP_FRAMES + 1) + [LOUD] * 10
    detected = 5 + MAX_GAP_FRAMES + 1
    assert onset_index(levels, detected) == detected


def test_the_walk_back_is_bounded() -> None:
    levels = [SILENCE] + [QUIET_WORD] * (MAX_BACK_FRAMES + 20) + [LOUD] * 5
    detected = MAX_BACK_FRAMES + 21
    assert onset_index(levels, detected) == detected - MAX_BACK_FRAMES


def test_nothing_recent_keeps_the_detected_start() -> None:
    assert onset_index([], 0) == 0
    assert onset_index([LOUD] * 3, 0) == 0
