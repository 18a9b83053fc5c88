"""The supervisor: routes ARI events to calls, owns their tasks, takes back orphaned callers.

It connects before the speech and answer models are loaded, so that after a crash the
callers a dead predecessor left hear us within a moment: while it is *starting* (no
:class:`CallServices` yet) it cleans up what the dead process left in Asterisk, puts each
orphaned caller on hold with Asterisk's own prompt and music (no models needed), and hands
brand-new callers to the dialplan's fallback, which rings people. :meth:`ready` then takes
the held callers back with a session each and starts taking calls.

``SIGTERM`` stops taking new calls (they go back to the dialplan's fallback too) and
drains the calls in progress; ``SIGHUP`` reloads the configuration, keeping the last good
one. Whenever the events socket (re)connects it reconciles with what Asterisk holds: live
calls learn which of their channels are gone, orphaned callers are taken back after what
was left of theirs is cleaned up, and leaked bridges and media channels are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Coroutine
from typing import Any

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, StasisEnd, StasisStart
from ari_app.ari.models import Channel
from ari_app.call import leftovers
from ari_app.call.adopted import AdoptedBridgedCall
from ari_app.call.capacity import AiCapacity
from ari_app.call.events import CallEventListener
from ari_app.call.ids import owner_of
from ari_app.call.leftovers import AGENT_ARG, Orphan, is_our_object, stasis_args
from ari_app.call.services import CallServices
from ari_app.call.session import CallSession
from ari_app.config import ConfigHolder
from ari_app.shared.state import SharedState

_LOGGER = logging.getLogger(__name__)
FALLBACK_VARIABLE = "ARI_APP_FALLBACK"
"""Channel variable set (to the reason) on a call handed back to the dialplan's fallback."""
HOLD_PROMPT = "sound:one-moment-please"
"""What a caller taken back while the models load hears first (Asterisk's core sounds)."""


class Supervisor:
    """Routes ARI events to calls and owns their tasks."""

    def __init__(
        self,
        holder: ConfigHolder,
        ari: AriClient,
        services: CallServices | None = None,
        *,
        listeners: list[CallEventListener] | None = None,
    ) -> None:
        self.holder = holder
        self.ari = ari
        self.services = services
        """None while starting (models loading): see :meth:`ready`."""
        self.capacity = AiCapacity()
        """Seats of the AI agent (``max_calls`` per line and in app.yaml)."""
        self.listeners = [*(listeners or []), self.capacity.on_event]
        self.shared: SharedState | None = None
        """The pool's shared state when the store is shared (``store.url``): seats counted
        over every worker, call ownership, busy agents (see :meth:`share`)."""
        self.sessions: dict[str, CallSession | AdoptedBridgedCall] = {}
        self.clients: dict[str, AriClient] = {}
        """The client each call's requests go over (one per Asterisk connection)."""
        self.tasks: dict[str, asyncio.Task[object]] = {}
        self.on_hold: dict[str, Orphan] = {}
        """Orphaned callers waiting (on hold) for the models to load."""
        self._hold_ari: dict[str, AriClient] = {}
        self.accepting = True
        self.calls_started = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def owner_of(self, event: AriEvent) -> CallSession | AdoptedBridgedCall | None:
        """The call one of whose channels the event is about."""
        for session in self.sessions.values():
            if session.inbox.owns(event):
                return session
        return None

    async def on_event(self, event: AriEvent, ari: AriClient | None = None) -> None:
        """Dispatch one ARI event: a new call, or an event of a call in progress.

        ``ari`` is the client of the connection the event came on (ARI outbound WebSockets:
        per call, or per Asterisk); a new call's session uses it for all its requests.
        """
        ari = ari or self.ari
        owner = self.owner_of(event)
        if owner is not None:
            owner.deliver(event)
            return
        if isinstance(event, StasisEnd) and event.channel.id in self.on_hold:
            del self.on_hold[event.channel.id]
            self._hold_ari.pop(event.channel.id, None)
            _LOGGER.info("call %s hung up while on hold", event.channel.id)
        if not isinstance(event, StasisStart):
            return
        if is_our_object(event.channel.id) or (event.args and event.args[0] == AGENT_ARG):
            # A media channel or agent leg whose call is over (or a dead predecessor's).
            with contextlib.suppress(AriError):
                await ari.hangup(event.channel.id)
            return
        await self._new_call(event.channel, event.args, ari=ari)

    async def _new_call(
        self,
        channel: Channel,
        args: tuple[str, ...],
        *,
        answered: bool = False,
        ari: AriClient | None = None,
    ) -> None:
        config = self.holder.current
        line = args[0] if args else (next(iter(config.lines)) if len(config.lines) == 1 else "")
        if not self.accepting:
            await self.to_fallback(channel.id, "draining", ari)
            return
        if self.services is None:
            await self.to_fallback(channel.id, "starting", ari)
            return
        if line not in config.lines:
            _LOGGER.warning("call %s: unknown line %r in the Stasis arguments", channel.id, line)
            await self.to_fallback(channel.id, "unknown_line", ari)
            return
        self.start_call(channel, line, already_answered=answered, ari=ari)

    async def to_fallback(self, channel_id: str, reason: str, ari: AriClient | None = None) -> None:
        """Hand a call we will not take back to the dialplan, which rings people.

        Asterisk continues the channel after its ``Stasis()`` with STASISSTATUS=SUCCESS;
        the dialplan goes to the line's fallback whenever ARI_APP_FALLBACK is set
        (``dialplan/extensions_ari_app.conf``); the variable says why.
        """
        _LOGGER.warning("call %s: %s; back to the dialplan's fallback", channel_id, reason)
        ari = ari or self.ari
        try:
            await ari.set_variable(channel_id, FALLBACK_VARIABLE, reason)
            await ari.continue_in_dialplan(channel_id)
        except AriError as err:
            _LOGGER.warning("call %s: could not hand back to the dialplan: %s", channel_id, err)

    def start_call(
        self,
        channel: Channel,
        line: str,
        *,
        already_answered: bool = False,
        ari: AriClient | None = None,
    ) -> None:
        """Start a CallSession task for ``channel`` on ``line`` (requests over ``ari``)."""
        if self.services is None:
            raise RuntimeError("the supervisor takes calls only once it is ready")
        services = self.services
        if ari is not None and ari is not services.ari:
            services = dataclasses.replace(services, ari=ari)
        session = CallSession(
            services,
            channel,
            line,
            listeners=self.listeners,
            already_answered=already_answered,
        )
        ai = session.config.lines[line].ai_agent
        work: Coroutine[Any, Any, object]
        if self.shared is not None and self.shared.shared:
            work = self._admitted(self.shared, session, channel.id, line, ai=ai.enabled)
        else:
            if ai.enabled and not self.capacity.try_acquire_for(session.config, channel.id, line):
                session.ai_unavailable = "capacity"  # the line's unavailable branch takes it
            work = session.run()
        self.calls_started += 1
        self._start(channel.id, session, work, services.ari)

    def share(self, shared: SharedState) -> None:
        """Use the pool's shared state: new calls are owned and take their AI seat in it,
        and it follows every call's events (busy agents, idle times, seats given back)."""
        self.shared = shared
        self.listeners.append(shared.on_event)
        if self.services is not None and shared.shared and self.services.routing is None:
            self.services.routing = shared.routing

    async def _admitted(
        self, shared: SharedState, session: CallSession, call_id: str, line: str, *, ai: bool
    ) -> object:
        """Own the call and take its AI seat over the pool, then run it."""
        if not await shared.admit(session.config, call_id, line, ai=ai, fallback=self.capacity):
            session.ai_unavailable = "capacity"  # the line's unavailable branch takes it
        return await session.run()

    def _start(
        self,
        call_id: str,
        session: CallSession | AdoptedBridgedCall,
        work: Coroutine[Any, Any, object],
        ari: AriClient,
    ) -> None:
        self.sessions[call_id] = session
        self.clients[call_id] = ari
        self.idle.clear()
        task = asyncio.create_task(work, name=f"call-{call_id}")
        self.tasks[call_id] = task
        task.add_done_callback(functools.partial(self._forget, call_id))

    def _forget(self, call_id: str, _task: object = None) -> None:
        self.capacity.release(call_id)
        if self.shared is not None:
            self.shared.forget(call_id)
        self.sessions.pop(call_id, None)
        self.clients.pop(call_id, None)
        self.tasks.pop(call_id, None)
        if not self.tasks:
            self.idle.set()

    # --- recovery -----------------------------------------------------------------------

    async def on_recovered(self, channels: list[Channel], ari: AriClient | None = None) -> None:
        """The events socket is (back) up: reconcile with everything Asterisk holds.

        ``channels`` are those the listener found in our app; the supervisor lists all
        channels and bridges itself, since a dead predecessor's leftovers include bridges
        and ringing agent legs that are not (yet) in the app.

        ``ari`` is the client of the connection that came up (outbound WebSockets): only
        the calls on it are reconciled. A per-call connection (its client's app is
        ``<app>:<channel name>``) reconnected mid-call concerns that call alone: other
        calls in the same Asterisk may be other workers' (behind a load balancer), so
        nothing of theirs is touched.
        """
        ari = ari or self.ari
        try:
            everything = await ari.list_channels()
            bridges = await ari.list_bridges()
        except AriError as err:
            _LOGGER.warning("cannot list Asterisk's channels and bridges: %s", err)
            everything = channels
            bridges = []
        if ari.app != self.ari.app:
            callers = {c.id for c in channels if not is_our_object(c.id)}
            everything = [c for c in everything if c.id in callers or owner_of(c.id) in callers]
            bridges = [b for b in bridges if owner_of(b.id) in callers]
        live = {c.id for c in everything}
        mine = list(self.sessions)
        if ari is not self.ari:  # only the calls on this connection
            mine = [cid for cid, client in self.clients.items() if client is ari]
        for call_id in mine:
            session = self.sessions.get(call_id)
            if session is not None:
                session.reconcile(live)
        for held in [h for h in self.on_hold if h not in live and self._held_on(h) is ari]:
            del self.on_hold[held]
            self._hold_ari.pop(held, None)
        owned = set().union(*(s.inbox.channels for s in self.sessions.values()), self.on_hold)
        found = leftovers.survey(self.ari.app, everything, bridges, set(self.sessions), owned)
        if found.stray_channels or found.stray_bridges:
            _LOGGER.warning(
                "removing %d channel(s) and %d bridge(s) left by calls that are over",
                len(found.stray_channels),
                len(found.stray_bridges),
            )
            await leftovers.clean(ari, found.stray_channels, found.stray_bridges)
        for orphan in found.orphans:
            await self._take_back(orphan, ari)

    def _held_on(self, channel_id: str) -> AriClient:
        return self._hold_ari.get(channel_id, self.ari)

    async def _take_back(self, orphan: Orphan, ari: AriClient | None = None) -> None:
        """A caller whose session died: clean what it left, then carry on with the call."""
        ari = ari or self.ari
        caller = orphan.caller
        await leftovers.clean(ari, orphan.channels, orphan.bridges)
        orphan.channels, orphan.bridges = [], []
        if orphan.talking_to is not None and orphan.agent_bridge is not None:
            _LOGGER.warning("call %s: still with agent leg %s", caller.id, orphan.talking_to)
            watch = AdoptedBridgedCall(ari, caller.id, orphan.talking_to, orphan.agent_bridge)
            self._start(caller.id, watch, watch.run(), ari)
            return
        if self.services is None:
            await self._hold(orphan, ari)
            return
        _LOGGER.warning("recovering call %s left without a session", caller.id)
        await self._new_call(caller, stasis_args(caller), answered=caller.state == "Up", ari=ari)

    async def _hold(self, orphan: Orphan, ari: AriClient) -> None:
        """Keep an orphaned caller company (Asterisk's prompt, then music) until ready."""
        channel_id = orphan.caller.id
        _LOGGER.warning("call %s: on hold until the models are loaded", channel_id)
        self.on_hold[channel_id] = orphan
        self._hold_ari[channel_id] = ari
        with contextlib.suppress(AriError):
            await ari.play(channel_id, HOLD_PROMPT)
            await ari.start_moh(channel_id)

    async def ready(self, services: CallServices) -> None:
        """Models loaded: take the held callers back and take calls from now on."""
        if self.shared is not None and self.shared.shared and services.routing is None:
            services.routing = self.shared.routing  # round robin, idle, busy over the pool
        self.services = services
        held, self.on_hold = list(self.on_hold.values()), {}
        clients, self._hold_ari = self._hold_ari, {}
        for orphan in held:
            ari = clients.get(orphan.caller.id, self.ari)
            with contextlib.suppress(AriError):
                await ari.stop_moh(orphan.caller.id)
            await self._take_back(orphan, ari)

    # --- configuration and shutdown -----------------------------------------------------

    def reload(self) -> None:
        """Re-read the configuration (SIGHUP); new calls use it, old ones finish as they are."""
        self.holder.reload()

    def stop_accepting(self) -> None:
        """New calls go back to the dialplan (whose fallback rings people) from now on."""
        self.accepting = False

    async def drain(self, within_s: float) -> None:
        """Stop taking calls; wait for calls in progress, cancelling any left after the limit."""
        self.stop_accepting()
        if self.tasks:
            _LOGGER.info("draining %d call(s)", len(self.tasks))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within_s):
                    await self.idle.wait()
        for task in list(self.tasks.values()):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
