"""Contract: every route the fake serves and every request the client makes is in the spec.

Walks Asterisk 22's ARI spec (``../shared/ari-spec/*.json``, or ``$ARI_SPEC_DIR``) and
checks both sides: the fake's route table and router, and a recorded run of every public
client method with all its optional parameters set.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.errors import BadRequest
from ari_app.ari.events import (
    ChannelDestroyed,
    PlaybackStarted,
    RecordingFinished,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.testing.routes import ROUTES, Route
from ari_app.testing.server import ari_routes

SPEC_DIR = Path(
    os.environ.get("ARI_SPEC_DIR", Path(__file__).resolve().parents[3] / "shared" / "ari-spec")
)


@dataclass(frozen=True)
class SpecOp:
    """One operation of the spec."""

    required_query: frozenset[str]
    query: frozenset[str]
    body: frozenset[str]
    path: frozenset[str]
    choices: dict[str, tuple[str, ...]]


def load_spec() -> dict[tuple[str, str], SpecOp]:
    """(method, path) -> operation, from every resource file of the spec."""
    files = sorted(SPEC_DIR.glob("*.json"))
    assert files, f"ARI spec not found in {SPEC_DIR}"
    spec: dict[tuple[str, str], SpecOp] = {}
    for file in files:
        data = json.loads(file.read_text())
        for api in data.get("apis", []):
            for op in api.get("operations", []):
                params = op.get("parameters", [])
                query = [p for p in params if p["paramType"] == "query"]
                spec[(op["httpMethod"], api["path"])] = SpecOp(
                    required_query=frozenset(p["name"] for p in query if p.get("required")),
                    query=frozenset(p["name"] for p in query),
                    body=frozenset(p["name"] for p in params if p["paramType"] == "body"),
                    path=frozenset(p["name"] for p in params if p["paramType"] == "path"),
                    choices={
                        p["name"]: tuple(p["allowableValues"]["values"])
                        for p in query
                        if p.get("allowableValues", {}).get("valueType") == "LIST"
                    },
                )
    return spec


SPEC = load_spec()


def test_spec_is_asterisk_22_and_complete() -> None:
    assert ("POST", "/channels/externalMedia") in SPEC
    assert len(SPEC) > 90


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_fake_route_matches_spec(route: Route) -> None:
    op = SPEC.get((route.method, route.template))
    assert op is not None, f"{route.method} {route.template} is not in the ARI spec"
    assert frozenset(route.required) == op.required_query
    assert frozenset(route.required) | frozenset(route.optional) == op.query
    assert frozenset(route.body) == op.body
    assert frozenset(route.path_params) == op.path
    assert route.choices == op.choices


def test_fake_router_serves_exactly_the_route_table() -> None:
    fake = FakeAsterisk()
    served = sorted(ari_routes(fake.web_app))
    assert served == sorted((r.method, r.template) for r in ROUTES)
    assert len(set(served)) == len(served)
    for method, template in served:
        assert (method, template) in SPEC


async def _exercise_every_client_method(
    fake: FakeAsterisk, client: AriClient, log: EventLog
) -> None:
    """Call each public request method of the client with every optional parameter set."""
    await client.asterisk_info(only=["build", "system"])
    await client.ping()
    await client.get_application()
    await client.subscribe(["deviceState:PJSIP/201"])
    await client.unsubscribe(["deviceState:PJSIP/201"])

    call = await fake.place_call(did="100")
    cid = call.channel_id
    await log.wait_for(StasisStart, channel__id=cid)
    await client.list_channels()
    await client.get_channel(cid)
    await client.ring(cid)
    await client.ring_stop(cid)
    await client.answer(cid)
    await client.set_variable(cid, "X", "1")
    assert await client.get_variable(cid, "X") == "1"
    await client.send_dtmf(cid, "12", before=0, between=100, duration=100, after=0)
    await client.start_moh(cid, moh_class="default")
    await client.stop_moh(cid)
    playback = await client.play(
        cid, "tone:beep", lang="en", offsetms=0, skipms=3000, playback_id="pb-1"
    )
    await log.wait_for(PlaybackStarted, playback__id=playback.id)
    await client.get_playback(playback.id)
    await client.stop_playback(playback.id)
    live = await client.record(
        cid,
        "contract-1",
        "wav",
        max_duration_seconds=10,
        max_silence_seconds=5,
        if_exists="overwrite",
        beep=True,
        terminate_on="#",
    )
    await client.get_live_recording(live.name)
    await client.stop_live_recording(live.name)
    await log.wait_for(RecordingFinished, recording__name="contract-1")
    assert [r.name for r in await client.list_stored_recordings()] == ["contract-1"]
    await client.get_stored_recording("contract-1")
    assert (await client.get_stored_recording_file("contract-1"))[:4] == b"RIFF"
    await client.delete_stored_recording("contract-1")
    await client.record(cid, "contract-2", "wav")
    await client.cancel_live_recording("contract-2")

    media = await client.external_media(
        "slin16",
        external_host="127.0.0.1:40000",
        channel_id="em-1",
        encapsulation="rtp",
        transport="udp",
        connection_type="client",
        direction="both",
        data="x",
        transport_data="y",
        variables={"A": "b"},
    )
    await log.wait_for(StasisStart, channel__id=media.id)
    spy = await client.snoop(cid, spy="in", whisper="none", app_args="s", snoop_id="snoop-1")
    bridge = await client.create_bridge("mixing", bridge_id="br-1", name="call")
    await client.add_channel(
        bridge.id, [cid, media.id], role="caller", absorb_dtmf=False, mute=False
    )
    await client.play_on_bridge(bridge.id, "tone:beep", lang="en", playback_id="pb-2")
    await client.remove_channel(bridge.id, media.id)
    await client.get_bridge(bridge.id)
    await client.list_bridges()
    await client.destroy_bridge(bridge.id)

    agent = await client.originate(
        "PJSIP/201",
        app_args="agent",
        caller_id='"Front desk" <100>',
        ring_timeout=5,
        channel_id="agent-1",
        other_channel_id="agent-1b",
        originator=cid,
        formats="slin16",
        variables={"V": "1"},
    )
    await log.wait_for(StasisStart, channel__id=agent.id)
    created = await client.create_channel(
        "PJSIP/202",
        app_args="dialled",
        channel_id="agent-2",
        other_channel_id="agent-2b",
        originator=cid,
        formats="ulaw",
        variables={"V": "2"},
    )
    await client.dial(created.id, caller=cid, ring_timeout=5)
    with pytest.raises(BadRequest):
        await client.originate(
            "PJSIP/201", extension="100", context="default", priority=1, label="l"
        )
    await client.list_endpoints()
    await client.list_endpoints("PJSIP")
    await client.get_endpoint("PJSIP", "201")
    await client.list_device_states()
    await client.get_device_state("PJSIP/201")
    await client.continue_in_dialplan(spy.id, context="c", extension="e", priority=1, label="l")
    await client.hangup(agent.id, reason="normal")
    await client.hangup(created.id, reason_code="16")
    await client.hangup(media.id)
    await client.hangup(cid)
    await log.wait_for(StasisEnd, channel__id=cid)
    await log.wait_for(ChannelDestroyed, channel__id=media.id)
    assert (await client.channels_in_app()) == []


async def test_every_client_request_is_in_the_spec(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    await _exercise_every_client_method(fake, client, log)

    public = {
        name
        for name, fn in inspect.getmembers(AriClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in ("close", "channels_in_app")
    }
    used = {record.operation for record in client.request_log}
    assert public - used == set(), "client methods the contract run did not exercise"

    for record in client.request_log:
        op = SPEC.get((record.method, record.template))
        assert op is not None, f"{record.method} {record.template} not in spec"
        assert record.query <= op.query, (record.operation, record.query - op.query)
        assert record.body <= op.body, (record.operation, record.body - op.body)
        assert op.required_query <= record.query, (record.operation, op.required_query)
        placeholders = set(re.findall(r"{(\w+)}", record.template))
        assert placeholders == op.path

    # What the fake received (client and events listener alike) is in the spec too, and
    # no request the client made was refused as malformed (400 needs a missing param).
    for entry in fake.request_log:
        op = SPEC[(entry["method"], entry["template"])]
        assert set(entry["params"]) <= op.query | {"api_key"}, entry
    events_requests = [e for e in fake.request_log if e["operation"] == "events"]
    assert events_requests
    assert events_requests[0]["params"]["app"] == APP
