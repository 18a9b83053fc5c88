"""What the whole suite shares: one cache of synthesised speech for every simulation, and
property tests that try the same examples on every run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore from a fixed seed: a run on CI tries exactly what ran here, so a
# new random example can never fail a commit that passed (edge cases found while writing
# a property test become examples of their own, like the skipped-hour one of test_hours).
settings.register_profile("suite", derandomize=True)
settings.load_profile("suite")


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """Makes ``root/cache`` for a :class:`~ari_app.simulation.Simulation` whose speech cache
    (``tts/``) is shared by every simulation of the test run: greetings, prompts and
    answers are synthesised once per run, not once per module, and a simulation's
    start-up synthesis no longer competes with its calls' 20 ms media clock for the CPU."""
    shared = tmp_path_factory.mktemp("shared-tts")

    def make(root: Path) -> Path:
        cache = root / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "tts").symlink_to(shared, target_is_directory=True)
        return cache

    return make
