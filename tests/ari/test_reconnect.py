"""The events connection: backoff policy, driven-time reconnects, recovery of live calls,
a dropped socket mid-call, and malformed events counted and skipped."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ari_app.ari.client import AriClient
from ari_app.ari.events import (
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.ari.models import Channel
from ari_app.ari.reconnect import Backoff, ConnState
from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


@given(
    failures=st.integers(1, 200),
    rand=st.floats(0, 1, exclude_max=True),
    initial=st.floats(0.01, 5),
    cap=st.floats(0.01, 60),
)
def test_backoff_never_exceeds_cap_and_grows(
    failures: int, rand: float, initial: float, cap: float
) -> None:
    policy = Backoff(initial=initial, cap=cap)
    delay = policy.delay(failures, rand)
    assert 0 < delay <= cap
    assert policy.delay(failures + 1, rand) >= delay


def test_backoff_is_capped_exponential_with_jitter() -> None:
    policy = Backoff(initial=0.5, factor=2.0, cap=8.0, jitter=0.2)
    assert policy.delay(1, 0.5) == pytest.approx(0.5)
    assert policy.delay(2, 0.5) == pytest.approx(1.0)
    assert policy.delay(4, 0.5) == pytest.approx(4.0)
    assert policy.delay(10, 0.5) == pytest.approx(8.0)
    assert policy.delay(3, 0.0) == pytest.approx(2.0 * 0.8)
    assert policy.delay(3, 0.999999) == pytest.approx(2.0 * 1.2, rel=1e-5)
    assert policy.delay(50, 0.999999) == 8.0  # jitter never exceeds the cap


class DrivenSleep:
    """A sleep function the test releases step by step; it records each requested delay."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._release: asyncio.Queue[None] = asyncio.Queue()
        self._changed = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self._changed.set()
        await self._release.get()

    def release(self) -> None:
        self._release.put_nowait(None)

    async def wait_calls(self, n: int) -> None:
        async with asyncio.timeout(5):
            while len(self.delays) < n:
                self._changed.clear()
                await self._changed.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_reconnect_with_driven_time_and_recovery(
    caplog: pytest.LogCaptureFixture, tmp_path: object
) -> None:
    port = _free_port()
    client = AriClient(f"http://127.0.0.1:{port}/ari", "asterisk", "asterisk", APP, timeout=2)
    sleep = DrivenSleep()
    recovered: list[list[Channel]] = []
    log = EventLog()
    states: list[ConnState] = []
    listener = EventListener(
        client,
        log,
        on_recovered=recovered.append,
        sleep=sleep,
        rand=lambda: 0.5,
        backoff=Backoff(initial=0.25, factor=2, cap=2.0, jitter=0.2),
    )
    listener.on_state(states.append)
    caplog.set_level(logging.DEBUG, logger="ari_app.ari.listener")
    await listener.start()
    # Nothing listens yet: each attempt fails and asks for the next, longer delay.
    for n in range(1, 6):
        await sleep.wait_calls(n)
        assert listener.state is ConnState.BACKOFF
        if n < 5:
            sleep.release()
    assert sleep.delays == [0.25, 0.5, 1.0, 2.0, 2.0]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1  # quieter after the first failure
    assert listener.stats.failures == 5

    fake = FakeAsterisk()
    await fake.start("127.0.0.1", port)
    try:
        sleep.release()
        async with asyncio.timeout(5):
            await listener.connected.wait()
        assert recovered == [[]]  # connected after failures: listed the (no) live calls
        call = await fake.place_call(did="200")
        await log.wait_for(StasisStart, channel__id=call.channel_id)
        await client.answer(call.channel_id)

        # The socket drops; while we are away the call goes on and another one ends.
        gone = await fake.place_call(did="201")
        await log.wait_for(StasisStart, channel__id=gone.channel_id)
        await fake.drop_event_sockets()
        await sleep.wait_calls(6)
        assert sleep.delays[-1] == 0.25  # a fresh drop starts the backoff again
        await gone.hangup()
        sleep.release()
        async with asyncio.timeout(5):
            await listener.connected.wait()
        await fake.wait_until(lambda: len(recovered) == 2, 5)
        assert [c.id for c in recovered[1]] == [call.channel_id]
        assert recovered[1][0].state == "Up"
        assert states[:3] == [ConnState.CONNECTING, ConnState.BACKOFF, ConnState.CONNECTING]

        # Asterisk restarts: a new PBX on the same port knows nothing of our subscriptions.
        await listener.subscribe(["deviceState:PJSIP/201"])
        await fake.stop()
        await sleep.wait_calls(7)
        fake = FakeAsterisk()
        await fake.start("127.0.0.1", port)
        sleep.release()
        async with asyncio.timeout(5):
            await listener.connected.wait()
        assert fake.apps[APP].subscriptions == {"deviceState:PJSIP/201"}
        assert recovered[-1] == []
    finally:
        await listener.stop()
        assert listener.state is ConnState.STOPPED
        await client.close()
        await fake.stop()


async def test_dropped_socket_mid_call_reconnects_within_2s_and_call_goes_on(
    fake: FakeAsterisk, client: AriClient
) -> None:
    log = EventLog()
    recovered: list[list[Channel]] = []
    listener = EventListener(client, log, on_recovered=recovered.append)
    await listener.start()
    try:
        async with asyncio.timeout(5):
            await listener.connected.wait()
        call = await fake.place_call()
        await log.wait_for(StasisStart, channel__id=call.channel_id)
        await client.answer(call.channel_id)

        loop = asyncio.get_running_loop()
        dropped_at = loop.time()
        await fake.drop_event_sockets()
        async with asyncio.timeout(5):
            while listener.stats.connects < 2 or not listener.connected.is_set():
                await asyncio.wait_for(_state_change(listener), 5)
        assert loop.time() - dropped_at < 2.0
        await fake.wait_until(lambda: bool(recovered), 5)
        assert [c.id for c in recovered[0]] == [call.channel_id]

        # The call goes on over the new socket.
        playback = await client.play(call.channel_id, "tone:beep")
        await log.wait_for(PlaybackFinished, playback__id=playback.id)
        await call.hangup()
        await log.wait_for(StasisEnd, channel__id=call.channel_id)
    finally:
        await listener.stop()


async def _state_change(listener: EventListener) -> None:
    changed = asyncio.Event()
    listener.on_state(lambda _state: changed.set())
    await changed.wait()


async def test_malformed_events_are_counted_and_skipped(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    listener, log = events
    bad: list[str] = []
    bad += ["{not json"] * 10
    bad += [json.dumps([1, 2, 3])] * 10
    bad += [json.dumps({"no": "type"})] * 10
    bad += [json.dumps({"type": "StasisStart", "application": APP})] * 10  # no channel
    bad += [json.dumps({"type": "ChannelDtmfReceived", "channel": {"id": "x"}})] * 10  # no digit
    for text in bad:
        await fake.inject_raw_event(APP, text)
    await fake.inject_raw_event(APP, json.dumps({"type": "TextMessageReceived"}))
    call = await fake.place_call()
    start = await log.wait_for(StasisStart)
    assert start.channel.id == call.channel_id
    assert listener.stats.malformed == 50
    assert listener.stats.unknown == 1
    assert listener.state is ConnState.CONNECTED
    await call.hangup()


async def test_a_failing_recovery_callback_does_not_stop_events(
    fake: FakeAsterisk, client: AriClient
) -> None:
    log = EventLog()

    def broken(channels: list[Channel]) -> None:
        raise RuntimeError("bug in the app")

    listener = EventListener(client, log, on_recovered=broken, recover_on_first_connect=True)
    await listener.start()
    try:
        async with asyncio.timeout(5):
            await listener.connected.wait()
        assert listener.stats.handler_errors == 1
        call = await fake.place_call()
        await log.wait_for(StasisStart, channel__id=call.channel_id)
        await call.hangup()
    finally:
        await listener.stop()
