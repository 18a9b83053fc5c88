"""Fixtures: the sample configuration and a helper to read local times."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.config import Config, load_config
from ari_app.routing.hours import BusinessHours

SAMPLE = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped sample configuration (Harbour Light Dental)."""
    return load_config(SAMPLE)


@pytest.fixture(scope="session")
def hours(config: Config) -> BusinessHours:
    """Hours of the sample line ``main``."""
    return BusinessHours.from_line(config.lines["main"])
