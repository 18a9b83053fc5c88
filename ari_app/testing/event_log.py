"""A helper for tests of ARI applications: collect typed events and wait for them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

from ari_app.ari.client import AriClient
from ari_app.ari.events import AriEvent
from ari_app.ari.listener import EventListener

APP = "ari_app"
"""The default Stasis application name."""
E = TypeVar("E", bound=AriEvent)


class EventLog:
    """Collects typed events and lets a test wait for one of a kind."""

    def __init__(self) -> None:
        self.events: list[AriEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: AriEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def types(self, channel_id: str | None = None) -> list[str]:
        """Event type names in order (optionally only those about ``channel_id``)."""
        out = []
        for event in self.events:
            channel = getattr(event, "channel", None) or getattr(event, "peer", None)
            if channel_id is None or (channel is not None and channel.id == channel_id):
                out.append(event.type)
        return out

    async def wait_for(self, kind: type[E], within: float = 5.0, **match: object) -> E:
        """The first event of ``kind`` whose attributes equal ``match`` (waits for it)."""
        async with asyncio.timeout(within):
            while True:
                for event in self.events:
                    if isinstance(event, kind) and all(
                        _attr(event, k) == v for k, v in match.items()
                    ):
                        return event
                self._changed.clear()
                await self._changed.wait()


def _attr(obj: object, dotted: str) -> object:
    for part in dotted.split("__"):
        obj = getattr(obj, part)
    return obj


@contextlib.asynccontextmanager
async def listening(
    client: AriClient, within: float = 5.0
) -> AsyncIterator[tuple[EventListener, EventLog]]:
    """An events listener of ``client``'s app, connected, and the log of what it receives."""
    log = EventLog()
    listener = EventListener(client, log)
    await listener.start()
    try:
        async with asyncio.timeout(within):
            await listener.connected.wait()
        yield listener, log
    finally:
        await listener.stop()
