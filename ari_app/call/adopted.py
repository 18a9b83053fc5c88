"""A caller found talking to an agent after a restart: leave them be, end it cleanly.

When ari-app dies after it bridged a caller with an agent, Asterisk keeps the bridge and
the two keep talking. The new process must not break that call up; it only takes over the
ending: when either side hangs up, the other is hung up and the bridge destroyed, exactly
as the original session would have done.
"""

from __future__ import annotations

import contextlib
import logging

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent
from ari_app.call.core import gone_event
from ari_app.call.inbox import CallInbox

_LOGGER = logging.getLogger(__name__)


class AdoptedBridgedCall:
    """Watches a caller and an agent bridged by a dead predecessor until either hangs up."""

    def __init__(self, ari: AriClient, caller_id: str, agent_id: str, bridge_id: str) -> None:
        self.ari = ari
        self.call_id = caller_id
        self.agent_id = agent_id
        self.bridge_id = bridge_id
        self.inbox = CallInbox(caller_id)
        self.inbox.channels.add(agent_id)

    def deliver(self, event: AriEvent) -> None:
        """Hand an ARI event about the caller or the agent to this watch."""
        self.inbox.deliver(event)

    def reconcile(self, live_channel_ids: set[str]) -> None:
        """After a reconnect: a side Asterisk no longer has counts as hung up."""
        for channel_id in (self.call_id, self.agent_id):
            if channel_id not in live_channel_ids:
                self.inbox.deliver(gone_event(channel_id))

    async def run(self) -> str:
        """Wait until either side is gone, then end the other; returns who hung up first."""
        sides = (self.call_id, self.agent_id)
        if not set(sides) & self.inbox.gone:
            await self.inbox.wait_for(lambda _e: bool(set(sides) & self.inbox.gone))
        first = self.call_id if self.call_id in self.inbox.gone else self.agent_id
        _LOGGER.info("adopted call %s ended: %s hung up", self.call_id, first)
        for channel_id in sides:
            if channel_id not in self.inbox.gone:
                with contextlib.suppress(AriError):
                    await self.ari.hangup(channel_id)
        with contextlib.suppress(AriError):
            await self.ari.destroy_bridge(self.bridge_id)
        return "caller" if first == self.call_id else "agent"
