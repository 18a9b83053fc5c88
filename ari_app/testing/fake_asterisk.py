"""A fake Asterisk 22 on aiohttp: ARI REST + events WebSocket + real RTP, for tests and demos.

:class:`FakeAsterisk` behaves like Asterisk 22.10 at the network boundary, as recorded
in real ARI traffic (``../shared/ari-captures``, replayed by ``tests/conformance``): it
runs inbound calls through a small dialplan into a Stasis application, emits the events
Asterisk emits in Asterisk's order, rings agent endpoints that answer, ring out, are busy
or offline, mixes bridges every 20 ms, exchanges real RTP or chan_websocket media with
externalMedia channels, plays sound files and records to real WAV files. Its control API
(:meth:`FakeAsterisk.place_call` and :class:`FakeCall`, also over HTTP under ``/fake``)
lets a test or the demo be the caller and the agents.

The behaviour is layered, one module per concern: :mod:`~ari_app.testing.core` (state,
events), :mod:`~ari_app.testing.bridges`, :mod:`~ari_app.testing.playback` (playbacks,
recordings, media tick), :mod:`~ari_app.testing.channels` (Stasis, hangups, dialplan),
:mod:`~ari_app.testing.agents` (endpoints, ringing), :mod:`~ari_app.testing.external`
(externalMedia) and this module (the caller's side).
"""

from __future__ import annotations

from collections.abc import Sequence

from ari_app.media.codecs import resample
from ari_app.testing import audio
from ari_app.testing.core import DEFAULT_AGENTS
from ari_app.testing.dialplan import DialplanRunner, find_extension, line_extension
from ari_app.testing.external import ExternalMediaOps
from ari_app.testing.model import (
    FRAME_MS,
    RATE,
    ChannelKind,
    FakeChannel,
    FakeError,
    LoudCount,
)
from ari_app.testing.playback import SILENCE_RMS

__all__ = ["DEFAULT_AGENTS", "SILENCE_RMS", "FakeAsterisk", "FakeCall"]


class FakeCall:
    """The caller's side of one simulated inbound call."""

    def __init__(self, fake: FakeAsterisk, channel: FakeChannel) -> None:
        self.fake = fake
        self.channel = channel

    @property
    def channel_id(self) -> str:
        """The ARI channel id of the caller's channel."""
        return self.channel.id

    @property
    def state(self) -> str:
        """The channel's state (``Ring``, ``Up``) or ``Gone`` once destroyed."""
        return "Gone" if self.channel.destroyed else self.channel.state

    @property
    def dialplan_log(self) -> list[str]:
        """Where the call went in the dialplan, step by step, with results."""
        return self.channel.dialplan_log

    async def send_audio(self, pcm: bytes, rate: int = RATE) -> None:
        """Speak: queue PCM (16-bit little-endian at ``rate``); the fake plays it at real time."""
        self.fake.send_audio(self.channel.id, pcm, rate)

    async def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Press keys (each gives a ChannelDtmfReceived event)."""
        self.fake.press_dtmf(self.channel.id, digits, duration_ms)

    async def hangup(self, cause: int = 16) -> None:
        """Hang up from the caller's side."""
        await self.fake.hangup_from_party(self.channel.id, cause)

    def heard(self, rate: int = RATE, *, clear: bool = False) -> bytes:
        """What the caller heard so far, as PCM at ``rate``."""
        return self.fake.heard(self.channel.id, rate, clear=clear)

    async def wait_state(self, state: str, within: float = 5.0) -> None:
        """Wait until the channel reaches ``state`` (``Up`` or ``Gone``)."""
        await self.fake.wait_until(lambda: self.state == state, within)

    async def wait_heard_speech(
        self, ms: int = 200, level: float = SILENCE_RMS, within: float = 5.0
    ) -> None:
        """Wait until the caller has heard ``ms`` of audio louder than ``level``."""

        count = LoudCount(self.channel, level)

        def loud() -> bool:
            return count() * FRAME_MS >= ms

        await self.fake.wait_until(loud, within)


class FakeAsterisk(ExternalMediaOps):
    """The fake PBX; ``await start(host, port)``, then point an ARI client at :attr:`ari_url`."""

    async def __aenter__(self) -> FakeAsterisk:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def place_call(
        self,
        did: str = "100",
        caller_number: str = "+15550100",
        caller_name: str = "",
        *,
        app: str = "ari_app",
        args: Sequence[str] = (),
        context: str = "from-trunk",
    ) -> FakeCall:
        """Simulate an inbound call to ``did`` in ``context`` of the dialplan.

        An extension the dialplan has runs as written (the lab's ``ari-app-inbound``
        lines); any other DID runs the shipped line pattern with ``Stasis(app, args)``:
        when ``app`` is not connected, ``STASISSTATUS=FAILED`` sends the caller to the
        fallback context (see :attr:`FakeCall.dialplan_log`).
        """
        seq = self.next_seq()
        channel = FakeChannel(
            id=self.new_id(seq),
            name=f"PJSIP/trunk-{seq:08x}",
            kind=ChannelKind.CALLER,
            state="Ring",
            caller_name=caller_name,
            caller_number=caller_number,
            context=context,
            exten=did,
            endpoint=self.trunk,
            protocol_id=f"{seq:016x}",
        )
        known = find_extension(self.dialplan, context, did) is not None
        if not known or (context, did) in self.line_extensions:
            self.line_extensions.add((context, did))
            self.dialplan.setdefault(context, {})[did] = line_extension(app, list(args))
        self.add_channel(channel)
        self.trunk.channel_ids.append(channel.id)
        DialplanRunner(self, channel).run()
        return FakeCall(self, channel)

    def call(self, channel_id: str) -> FakeCall:
        """Control handle for any live channel (caller or agent)."""
        return FakeCall(self, self.channel(channel_id))

    def send_audio(self, channel_id: str, pcm: bytes, rate: int = RATE) -> None:
        """Queue audio the party behind ``channel_id`` says."""
        if len(pcm) % 2:
            raise FakeError(400, "16-bit audio needs an even number of bytes")
        channel = self.channel(channel_id)
        channel.inbound.extend(resample(pcm, rate, RATE))

    def press_dtmf(self, channel_id: str, digits: str, duration_ms: int = 100) -> None:
        """The party behind ``channel_id`` presses ``digits``."""
        channel = self.channel(channel_id)
        for digit in digits:
            if digit.upper() not in audio.DTMF_FREQS:
                raise FakeError(400, f"not a DTMF digit: {digit!r}")
            self.emit(
                channel.app,
                "ChannelDtmfReceived",
                digit=digit.upper(),
                duration_ms=duration_ms,
                channel=channel.to_json(),
            )
            if channel.recording:
                recording = self.recordings.get(channel.recording)
                if recording is not None and (recording.terminate_on in ("any", digit)):
                    self.finish_recording(recording, "done")

    def heard(self, channel_id: str, rate: int = RATE, *, clear: bool = False) -> bytes:
        """What the party behind ``channel_id`` heard (works after hangup too)."""
        channel = self.channels.get(channel_id) or self.finished_channels.get(channel_id)
        if channel is None:
            raise FakeError(404, "Channel not found")
        pcm = bytes(channel.heard)
        if clear:
            channel.heard.clear()
            channel.heard_levels.clear()
        return resample(pcm, RATE, rate)

    async def hangup_from_party(self, channel_id: str, cause: int = 16) -> None:
        """The far party hangs up (ChannelHangupRequest without cause, ChannelLeftBridge,
        StasisEnd; ChannelDestroyed only for a channel the app created)."""
        self.hangup_now(self.channel(channel_id), cause, soft=False)
