"""Hostile ARI event frames over a real WebSocket: none stops the listener (issue 14 #1, #16).

Each frame is sent by the fake Asterisk on the app's events socket; afterwards a real call's
StasisStart must still be dispatched and answered. On 84284e2 the listener task ended at the
first of these frames (``int(inf)`` -> OverflowError, ``json.loads`` -> RecursionError) and
the next call rang forever.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from ari_app import counters
from ari_app.ari.events import MAX_FRAME_BYTES, ChannelDtmfReceived, parse_envelope, parse_event
from ari_app.ari.listener import EventListener
from ari_app.ari.reconnect import Backoff, ConnState
from ari_app.testing.event_log import APP, EventLog

from .conftest import Harness, captured_events

CHANNEL = {"id": "1.1", "name": "PJSIP/x", "state": "Up"}


def _frame(event_type: str, body: str) -> str:
    return f'{{"type": "{event_type}", "application": "ari_app", {body}}}'


HOSTILE = {
    "cause_infinity": (
        _frame("ChannelDestroyed", f'"channel": {json.dumps(CHANNEL)}, "cause": Infinity'),
        "non_finite",
        "ChannelDestroyed",
    ),
    "duration_1e999": (
        _frame("RecordingFinished", '"recording": {"name": "r", "duration": 1e999}'),
        "non_finite",
        "RecordingFinished",
    ),
    "nan": (_frame("ChannelHangupRequest", '"cause": NaN'), "non_finite", "ChannelHangupRequest"),
    "int_past_64_bits": (
        _frame("ChannelDestroyed", f'"channel": {json.dumps(CHANNEL)}, "cause": {10**30}'),
        "out_of_range",
        "ChannelDestroyed",
    ),
    "float_past_64_bits": (
        _frame("RecordingFinished", '"recording": {"name": "r", "duration": 1e300}'),
        "invalid",
        "RecordingFinished",
    ),
    "nested_100k": ("[" * 100_000 + "]" * 100_000, "too_deep", "unknown"),
    "nested_object_40": (
        _frame("StasisStart", '"x": ' + '{"a": ' * 40 + "1" + "}" * 40),
        "too_deep",
        "StasisStart",
    ),
    "too_big": (
        _frame("ChannelVarset", '"pad": "' + "x" * (MAX_FRAME_BYTES + 10) + '"'),
        "too_big",
        "ChannelVarset",
    ),
    "channel_is_a_list": (_frame("StasisStart", '"channel": [1, 2]'), "invalid", "StasisStart"),
    "caller_is_a_string": (
        _frame("StasisStart", '"channel": {"id": "1", "caller": "x"}'),
        "invalid",
        "StasisStart",
    ),
    "args_is_a_number": (
        _frame("StasisStart", '"channel": {"id": "1"}, "args": 5'),
        "invalid",
        "StasisStart",
    ),
    "not_json": ('{"type": "StasisStart", ', "not_json", "StasisStart"),
    "not_an_object": ("[1, 2, 3]", "not_an_event", "unknown"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_frame_is_counted_and_the_listener_goes_on(ari: Harness, name: str) -> None:
    """Fault #1: one malformed frame (Infinity, 1e999, 100k brackets ...) ended the listener."""
    text, reason, label = HOSTILE[name]
    before = counters.ARI_MALFORMED_EVENTS.value(reason=reason, type=label)
    await ari.fake.inject_raw_event(APP, text)
    await ari.still_dispatches()
    assert counters.ARI_MALFORMED_EVENTS.value(reason=reason, type=label) == before + 1
    assert ari.listener.stats.malformed >= 1


async def test_a_failing_handler_is_counted_and_the_next_event_dispatched(
    ari: Harness,
) -> None:
    """Fault #1: a handler exception is logged and counted; the listener keeps dispatching."""
    log = ari.log

    def fragile(event: object) -> None:
        if isinstance(event, ChannelDtmfReceived):
            raise RuntimeError("handler bug")
        log(event)  # type: ignore[arg-type]

    ari.listener.on_event = fragile
    before = counters.ARI_HANDLER_ERRORS.value(type="ChannelDtmfReceived")
    raw = {"type": "ChannelDtmfReceived", "digit": "5", "duration_ms": 100, "channel": CHANNEL}
    for _ in range(3):
        await ari.fake.inject_raw_event(APP, json.dumps(raw))
    await ari.still_dispatches()
    assert counters.ARI_HANDLER_ERRORS.value(type="ChannelDtmfReceived") == before + 3
    assert ari.listener.stats.handler_errors == 3


async def test_a_flood_of_bad_frames_is_logged_once_per_kind(
    ari: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault #1: bad frames are logged once per kind, not once per frame (no log flood)."""
    caplog.set_level(logging.WARNING, logger="ari_app.ari.listener")
    for _ in range(200):
        await ari.fake.inject_raw_event(APP, HOSTILE["cause_infinity"][0])
        await ari.fake.inject_raw_event(APP, HOSTILE["not_json"][0])
    await ari.still_dispatches()
    lines = [r.getMessage() for r in caplog.records if "malformed ARI event" in r.getMessage()]
    assert len(lines) == 2
    assert any("non_finite" in line and "ChannelDestroyed" in line for line in lines)
    assert ari.listener.stats.malformed == 400


async def test_reconnects_are_counted(ari: Harness) -> None:
    """Fault #16: ``ari_app_ari_reconnects_total`` never moved."""

    async def no_wait(_: float) -> None:
        await asyncio.sleep(0)

    listener = EventListener(ari.client, EventLog(), sleep=no_wait, backoff=Backoff(initial=0))
    connects: list[ConnState] = []
    twice = asyncio.Event()

    def seen(state: ConnState) -> None:
        if state is ConnState.CONNECTED:
            connects.append(state)
            if len(connects) == 2:
                twice.set()

    listener.on_state(seen)
    await ari.listener.stop()
    before = counters.ARI_RECONNECTS.value()
    await listener.start()
    try:
        async with asyncio.timeout(5):
            await listener.connected.wait()
        assert counters.ARI_RECONNECTS.value() == before
        await ari.fake.drop_event_sockets()
        async with asyncio.timeout(5):
            await twice.wait()
        assert counters.ARI_RECONNECTS.value() == before + 1
    finally:
        await listener.stop()


def test_the_captures_still_parse() -> None:
    """The bounds refuse nothing a real Asterisk 22.10.1 sent."""
    seeds = captured_events()
    assert len(seeds) > 100
    for raw in seeds:
        parse_event(parse_envelope(json.dumps(raw)))
