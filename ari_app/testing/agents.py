"""Agent phones of the fake Asterisk: endpoints, device states, originate and ringing.

An originated channel rings after the REST response: ``Dial ""`` →
``ChannelStateChange Ringing`` → ``Dial RINGING``; when the phone answers,
``ChannelStateChange Up`` → ``Dial ANSWER`` → ``StasisStart``. A phone that rings out
gives only ``ChannelDestroyed`` (cause 19, tech_cause 480) — no ``Dial NOANSWER``, no
``ChannelHangupRequest`` — as Asterisk 22 does; a busy phone ``ChannelDestroyed`` cause
17 (486), an unreachable one cause 20. The app hanging up a ringing channel gives
``ChannelHangupRequest`` (soft) → ``Dial NOANSWER`` → ``ChannelDestroyed``.

Endpoints behave as configured (:class:`~ari_app.testing.model.Behaviour`); ``manual``
ones ring until the test calls :meth:`AgentOps.agent_answers` or
:meth:`AgentOps.agent_rings_out` (or the dial times out).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ari_app.testing.channels import ChannelOps
from ari_app.testing.model import (
    AgentEndpoint,
    Behaviour,
    ChannelKind,
    FakeChannel,
    FakeError,
    Json,
)

if TYPE_CHECKING:
    from ari_app.testing.dialplan import DialplanRunner

RING_OUT = (19, 480)
BUSY = (17, 486)
UNREACHABLE = (20, 480)


def parse_caller_id(caller_id: str) -> tuple[str, str]:
    """Split ``"Name" <number>`` into (name, number)."""
    caller_id = caller_id.strip()
    if "<" in caller_id and caller_id.endswith(">"):
        name, _, number = caller_id[:-1].partition("<")
        return name.strip().strip('"'), number.strip()
    return "", caller_id


class AgentOps(ChannelOps):
    """Agent endpoints and ringing."""

    def endpoint_changed(self, endpoint: AgentEndpoint) -> None:
        """Emit DeviceStateChanged and EndpointStateChange to subscribed apps."""
        if endpoint is self.trunk:
            return
        self.emit_subscribed(
            f"deviceState:{endpoint.name}",
            "DeviceStateChanged",
            device_state={"name": endpoint.name, "state": endpoint.device_state},
        )
        self.emit_subscribed(
            f"endpoint:{endpoint.name}", "EndpointStateChange", endpoint=endpoint.to_json()
        )

    def configure_endpoint(
        self, name: str, behaviour: Behaviour | str, answer_delay: float | None = None
    ) -> AgentEndpoint:
        """Set how agent endpoint ``name`` (``PJSIP/201``) reacts; adds it if unknown."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            tech, _, resource = name.partition("/")
            if not tech or not resource:
                raise FakeError(400, f"endpoint name must be TECH/RESOURCE, got {name!r}")
            endpoint = self.endpoints[name] = AgentEndpoint(tech, resource)
        endpoint.behaviour = Behaviour(behaviour)
        if answer_delay is not None:
            endpoint.answer_delay = float(answer_delay)
        self.endpoint_changed(endpoint)
        return endpoint

    def channel_gone(self, channel: FakeChannel) -> None:
        """Free the endpoint of a destroyed channel."""
        endpoint = channel.endpoint
        if endpoint is not None and channel.id in endpoint.channel_ids:
            endpoint.channel_ids.remove(channel.id)
            endpoint.ringing_ids.discard(channel.id)
            self.endpoint_changed(endpoint)

    def new_agent_channel(
        self,
        endpoint: AgentEndpoint,
        app: str | None,
        *,
        channel_id: str | None = None,
        caller_id: str = "",
    ) -> FakeChannel:
        """Create the channel that will ring ``endpoint`` (``Down``, not yet in Stasis)."""
        seq = self.next_seq()
        name, number = parse_caller_id(caller_id)
        channel = FakeChannel(
            id=channel_id or self.new_id(seq),
            name=f"{endpoint.name}-{seq:08x}",
            kind=ChannelKind.AGENT,
            caller_name=name,
            caller_number=number,
            connected_number=number,
            exten="s",
            app_name="AppDial2",
            app_data="(Outgoing Line)",
            endpoint=endpoint,
            dialstring=endpoint.resource,
            originated=app is not None,
        )
        channel.app = app
        self.add_channel(channel)
        return channel

    def ring(
        self,
        channel: FakeChannel,
        *,
        timeout_s: float | None,
        caller: FakeChannel | None,
        stasis_args: Sequence[str] | None,
    ) -> None:
        """After the response, ring ``channel``'s endpoint; the outcome follows its behaviour."""
        self.after_response(
            lambda: self.spawn(
                self._ring(channel, timeout_s, caller, stasis_args), f"ring-{channel.id}"
            )
        )

    def dial_event(self, channel: FakeChannel, status: str) -> None:
        """Emit a Dial event for ``channel`` (with its calling channel when there is one)."""
        payload: Json = {
            "peer": channel.to_json(),
            "dialstatus": status,
            "dialstring": channel.dialstring,
            "forward": "",
        }
        caller = self.channels.get(channel.dial_caller or "")
        if caller is not None and not caller.destroyed:
            payload["caller"] = caller.to_json()
        self.emit(channel.app, "Dial", **payload)

    def dial_ended(self, channel: FakeChannel, status: str) -> None:
        """A ringing dial ends (the app hung the channel up, or the caller went away)."""
        self.dial_event(channel, status)
        channel.dial_caller = None
        if channel.endpoint is not None:
            channel.endpoint.ringing_ids.discard(channel.id)

    async def _ring(
        self,
        channel: FakeChannel,
        timeout_s: float | None,
        caller: FakeChannel | None,
        stasis_args: Sequence[str] | None,
    ) -> None:
        endpoint = channel.endpoint
        assert endpoint is not None
        if channel.destroyed:
            return
        channel.dial_caller = caller.id if caller is not None else ""
        self.dial_event(channel, "")
        if endpoint.behaviour in (Behaviour.OFFLINE, Behaviour.BUSY):
            channel.dial_caller = None
            cause, tech = UNREACHABLE if endpoint.behaviour is Behaviour.OFFLINE else BUSY
            self.destroy(channel, cause, tech)
            return
        endpoint.channel_ids.append(channel.id)
        endpoint.ringing_ids.add(channel.id)
        self.endpoint_changed(endpoint)
        self.set_state(channel, "Ringing")
        self.dial_event(channel, "RINGING")
        answers = endpoint.behaviour is Behaviour.ANSWER
        wait = endpoint.answer_delay if answers else None
        if timeout_s is not None and (wait is None or wait > timeout_s):
            wait, answers = timeout_s, False
        with contextlib.suppress(TimeoutError):
            # Rings until it answers, the dial times out, or a test answers / rings it out.
            await self.wait_until(
                lambda: channel.destroyed or channel.id not in endpoint.ringing_ids, wait
            )
        if channel.gone():
            return
        if channel.id in endpoint.ringing_ids:
            endpoint.ringing_ids.discard(channel.id)
        elif channel.variables.get("FAKE_RING_OUT") != "1":
            answers = True
        else:
            answers = False
        if not answers:
            channel.dial_caller = None
            self.destroy(channel, *RING_OUT)
            return
        self.set_state(channel, "Up")
        self.dial_event(channel, "ANSWER")
        channel.dial_caller = None
        self.endpoint_changed(endpoint)
        if stasis_args is not None and channel.app is not None:
            self.enter_stasis(channel, channel.app, stasis_args)

    def _ringing(self, channel_id: str) -> FakeChannel:
        channel = self.channel(channel_id)
        endpoint = channel.endpoint
        if endpoint is None or channel.id not in endpoint.ringing_ids:
            raise FakeError(409, "channel is not ringing")
        return channel

    def agent_answers(self, channel_id: str) -> None:
        """The phone ringing on ``channel_id`` is picked up now."""
        channel = self._ringing(channel_id)
        assert channel.endpoint is not None
        channel.endpoint.ringing_ids.discard(channel.id)
        self.notify()

    def agent_rings_out(self, channel_id: str) -> None:
        """The dial of ``channel_id`` times out now (as at the end of its ``timeout``)."""
        channel = self._ringing(channel_id)
        assert channel.endpoint is not None
        channel.variables["FAKE_RING_OUT"] = "1"
        channel.endpoint.ringing_ids.discard(channel.id)
        self.notify()

    async def dialplan_dial(
        self,
        caller: FakeChannel,
        targets: list[str],
        timeout_s: float | None,
        runner: DialplanRunner,
    ) -> None:
        """``Dial(A&B,timeout)`` in the dialplan: ring, connect the first to answer."""
        legs = []
        for target in targets:
            endpoint = self.endpoints.get(target.strip())
            if endpoint is not None:
                leg = self.new_agent_channel(endpoint, None, caller_id=caller.caller_number)
                legs.append(leg)
                self.spawn(self._ring(leg, timeout_s, caller, None), f"ring-{leg.id}")

        def up(leg: FakeChannel) -> bool:
            return not leg.destroyed and leg.state == "Up"

        await self.wait_until(
            lambda: caller.destroyed or any(map(up, legs)) or all(leg.destroyed for leg in legs),
            None,
        )
        answered = [leg for leg in legs if up(leg)]
        status = "ANSWER" if answered else ("NOANSWER" if legs else "CHANUNAVAIL")
        caller.variables["DIALSTATUS"] = status
        caller.dialplan_log.append(
            f"dial {'&'.join(targets)} -> {status}"
            + (f" by {answered[0].endpoint.name}" if answered and answered[0].endpoint else "")
        )
        for leg in legs:
            if leg not in answered[:1]:
                self.hangup_now(leg, 26, soft=False)  # answered elsewhere
        if caller.destroyed:
            for leg in answered:
                self.hangup_now(leg, 16, soft=False)
            return
        if answered:
            self.set_state(caller, "Up")
            await self.wait_until(lambda: caller.destroyed or answered[0].destroyed, None)
            if not answered[0].gone():
                self.hangup_now(answered[0], 16, soft=False)
            if caller.gone():
                return
        runner.run()
