"""One simulation per module: the fake Asterisk and the real runtime, with a short greeting."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import yaml

from ari_app.simulation import Simulation
from ari_app.testing import Behaviour

SAMPLE = Path(__file__).resolve().parents[2] / "config"
NEW_YORK = ZoneInfo("America/New_York")
OPEN = datetime(2026, 12, 1, 10, 30, tzinfo=NEW_YORK)
CLOSED = datetime(2026, 12, 1, 23, 30, tzinfo=NEW_YORK)
AGENTS = ("PJSIP/201", "PJSIP/202", "PJSIP/301")
RING_S = 3
"""Seconds each team rings in these tests."""


def short_config(target: Path) -> Path:
    """The sample config with short prompts, so calls in tests take seconds, not minutes."""
    shutil.copytree(SAMPLE, target)
    lines_file = target / "lines.yaml"
    data = yaml.safe_load(lines_file.read_text())
    line = data["lines"]["main"]
    line["ai_agent"]["greeting"] = "Harbour Light Dental, how can I help?"
    line["voicemail"]["greeting_in_hours"] = "Please leave a message."
    line["voicemail"]["greeting_after_hours"] = "We are closed. We open {next_opening}."
    line["voicemail"]["silence_seconds"] = 3
    lines_file.write_text(yaml.safe_dump(data, sort_keys=False))
    people_file = target / "people.yaml"
    people = yaml.safe_load(people_file.read_text())
    for team in people["teams"].values():
        team["attempt_timeout"] = team["overall_timeout"] = RING_S
    people_file.write_text(yaml.safe_dump(people, sort_keys=False))
    return target


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(
    tmp_path_factory: pytest.TempPathFactory, sim_cache: Callable[[Path], Path]
) -> AsyncIterator[Simulation]:
    """A running simulation; routing sees an in-hours Tuesday unless a test says otherwise."""
    root = tmp_path_factory.mktemp("call")
    config = short_config(root / "config")
    simulation = Simulation(
        config,
        cache_dir=sim_cache(root),
        store_path=root / "var" / "calls.sqlite3",
        voicemail_dir=root / "var" / "voicemail",
    )
    async with simulation:
        yield simulation


@pytest.fixture
def fresh_moment_and_agents(sim: Simulation) -> None:
    """Each test starts in hours with every agent answering after 0.3 s."""
    sim.moment = OPEN
    sim.agents(Behaviour.ANSWER, *AGENTS, answer_delay=0.3)
