"""The whole front desk takes a normal call after hostile event frames (issue 14 #1).

On 84284e2 the first of these frames ended the events listener while its socket stayed
open: the next caller sat in ``Ring`` forever and nothing was logged or counted. Here the
real runtime (recognition, answers, synthesis) runs against the fake Asterisk; the frames
arrive on its events socket first, then a caller asks a question and is answered.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from ari_app import counters
from ari_app.simulation import Say, Simulation

from .test_ari_frames import HOSTILE

SAMPLE = Path(__file__).resolve().parents[2] / "config"
OPEN = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/New_York"))


async def test_a_call_is_answered_after_hostile_frames(
    tmp_path: Path, sim_cache: Callable[[Path], Path]
) -> None:
    """Fault #1 end to end: Infinity, 1e999, 100k brackets ... then a caller is answered."""
    config = tmp_path / "config"
    shutil.copytree(SAMPLE, config)
    lines = config / "lines.yaml"
    data = yaml.safe_load(lines.read_text())
    data["lines"]["main"]["ai_agent"]["greeting"] = "Harbour Light Dental, hello."
    lines.write_text(yaml.safe_dump(data, sort_keys=False))
    sim = Simulation(
        config,
        cache_dir=sim_cache(tmp_path),
        store_path=tmp_path / "var" / "calls.sqlite3",
        voicemail_dir=tmp_path / "var" / "voicemail",
    )
    async with sim:
        assert sim.fake is not None
        assert sim.runtime is not None
        sim.moment = OPEN
        before = counters.ARI_MALFORMED_EVENTS.total()
        for text, _reason, _type in HOSTILE.values():
            await sim.fake.inject_raw_event(sim.runtime.ari.app, text)
        result = await sim.run_call("main", [Say("where do I park"), Say("no thanks")])
        assert result.outcome == "resolved"
        assert counters.ARI_MALFORMED_EVENTS.total() == before + len(HOSTILE)
