"""What a dead predecessor left in Asterisk, sorted by :func:`ari_app.call.leftovers.survey`.

The first case is the real ``GET /channels`` answer of a restarted app in
``../shared/ari-captures/s6_kill_and_recover.jsonl``: the caller still in Stasis, and the
dead app's media channel beside it (its RTP aimed at a process that is gone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ari_app.ari.models import Bridge, Channel
from ari_app.call.ids import CallIds, owner_of
from ari_app.call.leftovers import survey

CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "ari-captures"
APP = "ari-app"


def _captured_channels_after_restart() -> list[dict[str, Any]]:
    text = (CAPTURES / "s6_kill_and_recover.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    listings = [
        rows[i + 1]["body"]
        for i, row in enumerate(rows)
        if row["kind"] == "request" and row["uri"] == "channels" and row["method"] == "GET"
    ]
    assert listings, "s6_kill_and_recover.jsonl has no GET /channels"
    found: list[dict[str, Any]] = max(listings, key=len)
    return found


def channel(cid: str, *, args: str = "main", state: str = "Up", app: str = APP) -> Channel:
    return Channel.from_json(
        {
            "id": cid,
            "name": f"PJSIP/x-{cid}",
            "state": state,
            "dialplan": {"app_name": "Stasis", "app_data": f"{app},{args}" if args else app},
        }
    )


def test_the_captured_restart_finds_the_caller_and_its_dead_media_channel() -> None:
    raw = _captured_channels_after_restart()
    channels = [Channel.from_json(c) for c in raw]
    caller = next(c for c in raw if c["dialplan"]["app_data"] == "ari-app,main")
    media = next(c for c in raw if c["name"].startswith("UnicastRTP/"))
    bridge = Bridge(id=f"{caller['id']}-bridge", channels=(caller["id"], media["id"]))
    found = survey(APP, channels, [bridge], live_calls=set(), owned_channels=set())
    assert [o.caller.id for o in found.orphans] == [caller["id"]]
    orphan = found.orphans[0]
    assert orphan.channels == [media["id"]]
    assert orphan.bridges == [bridge.id]
    assert orphan.talking_to is None
    assert not found.stray_channels
    assert not found.stray_bridges


def test_a_caller_still_bridged_with_an_agent_is_kept_talking() -> None:
    ids = CallIds("1700.1", "abc123")
    leg = f"{ids.agent_prefix}-1"
    ringing = f"{ids.agent_prefix}-2"
    channels = [
        channel("1700.1"),
        channel(leg, args="agent,1700.1"),
        channel(ringing, args="", state="Ringing", app="none"),
        channel(ids.media, args=""),
    ]
    bridges = [Bridge(id=ids.bridge, channels=("1700.1", leg))]
    found = survey(APP, channels, bridges, live_calls=set(), owned_channels=set())
    (orphan,) = found.orphans
    assert orphan.talking_to == leg
    assert orphan.agent_bridge == ids.bridge
    assert sorted(orphan.channels) == sorted([ringing, ids.media])
    assert orphan.bridges == []


def test_objects_of_a_call_that_is_gone_are_strays_and_live_calls_are_untouched() -> None:
    gone = CallIds("1700.9", "dead01")
    live = CallIds("1700.2", "beef02")
    channels = [
        channel(gone.media, args=""),
        channel(live.media, args=""),
        channel("1700.2"),
        channel("9999.1", app="other-app"),
    ]
    bridges = [
        Bridge(id=gone.bridge, channels=()),
        Bridge(id=live.bridge, channels=("1700.2",)),
        Bridge(id="someone-elses-bridge", channels=()),
    ]
    found = survey(
        APP,
        channels,
        bridges,
        live_calls={"1700.2"},
        owned_channels={"1700.2", live.media},
    )
    assert found.orphans == []
    assert found.stray_channels == [gone.media]
    assert found.stray_bridges == [gone.bridge]


def test_ids_name_their_call_and_never_repeat() -> None:
    first, second = CallIds.for_call("1796157022.56"), CallIds.for_call("1796157022.56")
    assert first.media != second.media
    assert first.bridge != second.bridge
    for object_id in (first.media, first.bridge, first.whisper, first.whisper_bridge):
        assert owner_of(object_id) == "1796157022.56"
    assert owner_of(f"{first.agent_prefix}-3") == "1796157022.56"
    assert owner_of("1796157022.56-media") == "1796157022.56"  # an older release's ids
    assert owner_of("1796157022.56") is None
    assert owner_of("PJSIP/201-0000001a") is None
