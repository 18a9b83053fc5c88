"""Ringing people: availability checks, ring attempts by strategy, first answer wins.

Agent legs are originated into our Stasis application with ``appArgs=agent,<call id>``;
Asterisk puts a leg into the application when its endpoint answers (StasisStart), or
destroys it with a cause (busy, no answer). Legs that lose are hung up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError, NotFound
from ari_app.ari.events import AriEvent, ChannelDestroyed, StasisStart
from ari_app.call.inbox import CallInbox
from ari_app.routing.plan import Member, RingStep
from ari_app.routing.ring import RingHistory
from ari_app.shared.memory import MemoryRoutingState
from ari_app.shared.protocols import RoutingState

_LOGGER = logging.getLogger(__name__)
BUSY_DEVICE_STATES = frozenset(
    {"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD", "UNAVAILABLE", "INVALID"}
)
ANSWER_GRACE_S = 2.0
"""Extra seconds beyond the ring timeout to wait for Asterisk's own verdict on a leg."""


@dataclass(frozen=True, slots=True)
class Answered:
    """Someone picked up: who, and the channel of their leg (in our Stasis app)."""

    member: Member
    channel_id: str
    step: RingStep


class Ringer:
    """Rings the members of ring steps for one call."""

    def __init__(
        self,
        ari: AriClient,
        inbox: CallInbox,
        call_id: str,
        caller_number: str,
        *,
        leg_prefix: str | None = None,
        history: RingHistory | RoutingState,
        on_ring: Callable[[RingStep, list[Member]], None] | None = None,
    ) -> None:
        self.ari = ari
        self.inbox = inbox
        self.call_id = call_id
        self.caller_number = caller_number
        self.leg_prefix = leg_prefix or f"{call_id}-agent"
        """Agent legs are ``<leg_prefix>-<n>`` (see :mod:`ari_app.call.ids`)."""
        self.routing: RoutingState = (
            MemoryRoutingState(history) if isinstance(history, RingHistory) else history
        )
        """Round-robin positions, idle times and busy agents (this process's, or the
        pool's in the shared store)."""
        self.on_ring = on_ring
        self.live_legs: set[str] = set()
        """Agent legs rung and not yet known to be gone (hung up on cleanup)."""
        self._count = 0

    async def available(self, member: Member) -> bool:
        """False when the member's endpoint is offline or its device is busy."""
        tech, _, resource = member.endpoint.partition("/")
        try:
            endpoint = await self.ari.get_endpoint(tech, resource)
        except NotFound:
            _LOGGER.warning("endpoint %s of %s does not exist", member.endpoint, member.user)
            return False
        if endpoint.state == "offline":
            return False
        try:
            device = await self.ari.get_device_state(member.endpoint)
        except NotFound:
            return True
        return device.state not in BUSY_DEVICE_STATES

    async def ring(self, step: RingStep) -> Answered | None:
        """Ring ``step``'s members by its strategy; the first to answer, or None."""
        flags = await asyncio.gather(*(self.available(m) for m in step.members))
        busy = await self.routing.busy_agents()  # on a call anywhere in the pool
        free = {m.user for m, ok in zip(step.members, flags, strict=True) if ok} - busy
        attempts = await self.routing.ring_plan(step, free)
        if not attempts:
            _LOGGER.info("call %s: nobody in %s is available", self.call_id, step.label)
        for attempt in attempts:
            await self.routing.note_attempted(step.target, step.members, attempt.members[0])
            if self.on_ring is not None:
                self.on_ring(step, list(attempt.members))
            answered = await self._attempt(step, attempt.members, attempt.timeout)
            if answered is not None:
                return answered
        return None

    async def _attempt(
        self, step: RingStep, members: tuple[Member, ...], ring_s: float
    ) -> Answered | None:
        legs: dict[str, Member] = {}
        for member in members:
            self._count += 1
            leg = f"{self.leg_prefix}-{self._count}"
            self.inbox.channels.add(leg)
            self.live_legs.add(leg)  # before asking: a cancelled request may still ring
            try:
                await self.ari.originate(
                    member.endpoint,
                    app_args=f"agent,{self.call_id}",
                    channel_id=leg,
                    caller_id=self.caller_number or None,
                    ring_timeout=math.ceil(ring_s),
                )
            except AriError as err:
                _LOGGER.warning("call %s: cannot ring %s: %s", self.call_id, member.endpoint, err)
                self.live_legs.discard(leg)
                continue
            legs[leg] = member
        if not legs:
            return None

        def settles(event: AriEvent) -> bool:
            if isinstance(event, StasisStart) and event.channel.id in legs:
                return True
            return isinstance(event, ChannelDestroyed) and event.channel.id in legs

        winner: str | None = None
        pending = set(legs)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ring_s + ANSWER_GRACE_S
        while pending and winner is None:
            pending -= self.inbox.gone
            if not pending:
                break
            try:
                event = await self.inbox.wait_for(settles, max(0.0, deadline - loop.time()))
            except TimeoutError:
                break
            if isinstance(event, StasisStart):
                winner = event.channel.id
            elif isinstance(event, ChannelDestroyed):
                pending.discard(event.channel.id)
                self.live_legs.discard(event.channel.id)
        for leg in legs:
            if leg != winner:
                await self.hang_up_leg(leg)
        if winner is None:
            return None
        return Answered(legs[winner], winner, step)

    async def hang_up_leg(self, leg: str) -> None:
        """Hang up one agent leg; already gone is fine."""
        self.live_legs.discard(leg)
        if leg in self.inbox.gone:
            return
        with contextlib.suppress(AriError):
            await self.ari.hangup(leg)

    async def hang_up_all(self) -> None:
        """Hang up every leg still ringing or connected (cleanup)."""
        for leg in list(self.live_legs):
            await self.hang_up_leg(leg)
