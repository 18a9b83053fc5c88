"""What the whole suite shares: one cache of synthesised speech for every simulation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


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
