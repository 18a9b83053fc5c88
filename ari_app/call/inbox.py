"""A call's share of the ARI event stream: waiters for specific events, DTMF, hangups.

The supervisor delivers every event about the call's channels here; the call's own task
awaits what it needs (``wait_for``) instead of polling. Delivery never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from ari_app.ari.errors import ChannelGone
from ari_app.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEvent,
    ChannelHangupRequest,
    PlaybackEvent,
    RecordingEvent,
    StasisEnd,
    StasisStart,
)

Predicate = Callable[[AriEvent], bool]


@dataclass(slots=True)
class _Waiter:
    predicate: Predicate
    future: asyncio.Future[AriEvent]


@dataclass(slots=True)
class CallInbox:
    """Events of the channels one call owns."""

    caller_id: str
    channels: set[str] = field(default_factory=set)
    """Every channel id this call owns (caller, media, agent legs)."""
    gone: set[str] = field(default_factory=set)
    """Channels known to be hung up or destroyed."""
    dtmf: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    """Digits the caller pressed, in order."""
    recordings: set[str] = field(default_factory=set)
    """Names of the recordings this call started."""
    caller_gone: asyncio.Event = field(default_factory=asyncio.Event)
    in_stasis: set[str] = field(default_factory=set)
    """Channels whose StasisStart has arrived: only these may be bridged, played to, ...."""
    _waiters: list[_Waiter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channels.add(self.caller_id)

    def owns(self, event: AriEvent) -> bool:
        """True when ``event`` is about one of this call's channels."""
        if isinstance(event, RecordingEvent):
            return event.recording.name in self.recordings
        if isinstance(event, PlaybackEvent):  # a recorded message Asterisk plays to us
            return event.playback.target_uri.removeprefix("channel:") in self.channels
        ids = _channel_ids(event)
        return bool(ids & self.channels)

    def deliver(self, event: AriEvent) -> None:
        """Take one event: note hangups and digits, wake any waiter it satisfies."""
        if isinstance(event, StasisStart):
            self.in_stasis.add(event.channel.id)
        if isinstance(event, ChannelDestroyed | StasisEnd | ChannelHangupRequest):
            self.gone.add(event.channel.id)
            if event.channel.id == self.caller_id:
                self.caller_gone.set()
        if isinstance(event, ChannelDtmfReceived) and event.channel.id == self.caller_id:
            self.dtmf.put_nowait(event.digit)
        for waiter in list(self._waiters):
            if not waiter.future.done() and waiter.predicate(event):
                waiter.future.set_result(event)

    async def wait_for(self, predicate: Predicate, within_s: float | None = None) -> AriEvent:
        """The next event matching ``predicate``; ``TimeoutError`` after ``within_s`` seconds."""
        future: asyncio.Future[AriEvent] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(predicate, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(within_s):  # not wait_for: it may swallow a cancel
                return await future
        finally:
            self._waiters.remove(waiter)

    async def entered(self, channel_id: str, within_s: float) -> None:
        """Return once ``channel_id`` is in our Stasis application.

        Asterisk answers ``POST /channels/externalMedia`` (and originate) with the channel
        still ``Down``; its StasisStart comes on the events socket afterwards, and until
        then ``addChannel`` and the like get 422 "Channel not in Stasis application".
        ``ChannelGone`` when the channel ends first, ``TimeoutError`` after ``within_s``.
        """

        def settled(_event: AriEvent | None = None) -> bool:
            return channel_id in self.in_stasis or channel_id in self.gone

        if not settled():
            await self.wait_for(settled, within_s)
        if channel_id in self.gone:
            raise ChannelGone(404, "EVENT", f"/channels/{channel_id}", "hung up before use")


def _channel_ids(event: AriEvent) -> set[str]:
    ids: set[str] = set()
    if isinstance(event, ChannelEvent):
        ids.add(event.channel.id)
    for name in ("peer", "caller", "channel"):
        value = getattr(event, name, None)
        channel_id = getattr(value, "id", None)
        if isinstance(channel_id, str):
            ids.add(channel_id)
    return ids
