"""What a dead predecessor left in Asterisk, and what to do with each piece.

When ari-app dies mid-call, Asterisk keeps everything: the caller's channel stays in our
(now inactive) Stasis application, and so do the mixing bridge, the externalMedia channel
(its RTP still aimed at the dead process), whisper legs and agent legs. When the events
socket is back (at start-up or after a reconnect) :func:`survey` sorts Asterisk's channels
and bridges into:

- callers with no session, each with the objects of theirs to clean up first, and whether
  they are still talking to an agent through a live bridge (then the call is kept as it is
  and only watched until either side hangs up);
- objects whose caller is gone altogether (a leak): hang them up, destroy them.

Objects are recognised by their ids (:mod:`ari_app.call.ids`); channels of other
applications and bridges of others are never touched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.ari.models import Bridge, Channel
from ari_app.call.ids import owner_of

_LOGGER = logging.getLogger(__name__)
AGENT_ARG = "agent"
"""First Stasis argument of the agent legs we originate (``agent,<call id>``)."""


def stasis_args(channel: Channel) -> tuple[str, ...]:
    """The arguments of the ``Stasis(app,...)`` the channel runs (the line, or agent,...)."""
    return tuple(a for a in channel.dialplan.app_data.split(",")[1:] if a)


def is_our_object(channel_id: str) -> bool:
    """True for channels we create for a call (media, whisper, agent legs)."""
    return owner_of(channel_id) is not None


@dataclass(slots=True)
class Orphan:
    """A caller in our application whose session died with the old process."""

    caller: Channel
    channels: list[str] = field(default_factory=list)
    """Our channels of this call still in Asterisk (media, whisper, agent legs)."""
    bridges: list[str] = field(default_factory=list)
    """Our bridges of this call still in Asterisk."""
    talking_to: str | None = None
    """An agent leg bridged with the caller right now: the call is in good hands."""
    agent_bridge: str | None = None
    """The bridge joining caller and agent (kept while they talk)."""


@dataclass(slots=True)
class Survey:
    """Everything of ours in Asterisk that no live session owns."""

    orphans: list[Orphan] = field(default_factory=list)
    stray_channels: list[str] = field(default_factory=list)
    """Our channels whose caller is gone."""
    stray_bridges: list[str] = field(default_factory=list)
    """Our bridges whose caller is gone."""


def survey(
    app: str,
    channels: Iterable[Channel],
    bridges: Iterable[Bridge],
    live_calls: Collection[str],
    owned_channels: Collection[str],
) -> Survey:
    """Sort what Asterisk holds into orphaned callers and strays (pure; see module doc).

    ``live_calls`` are the caller ids of this process's sessions, ``owned_channels`` every
    channel those sessions own: neither is touched.
    """
    channels = list(channels)
    by_id = {c.id: c for c in channels}
    result = Survey()
    orphans: dict[str, Orphan] = {}
    for channel in channels:
        if channel.id in owned_channels or is_our_object(channel.id):
            continue
        if not channel.in_stasis_app(app):
            continue
        args = stasis_args(channel)
        if args and args[0] == AGENT_ARG:
            continue  # an agent leg someone else originated: judged with its call below
        orphans[channel.id] = Orphan(channel)
    for channel in channels:
        call = owner_of(channel.id)
        if call is None or call in live_calls or channel.id in owned_channels:
            continue
        if call in orphans:
            orphans[call].channels.append(channel.id)
        else:
            result.stray_channels.append(channel.id)
    for bridge in bridges:
        call = owner_of(bridge.id)
        if call is None or call in live_calls:
            continue
        orphan = orphans.get(call)
        if orphan is None:
            result.stray_bridges.append(bridge.id)
            continue
        agent = _agent_in(bridge, call, by_id) if orphan.caller.id in bridge.channels else None
        if agent is not None and orphan.talking_to is None:
            orphan.talking_to, orphan.agent_bridge = agent, bridge.id
        else:
            orphan.bridges.append(bridge.id)
    for orphan in orphans.values():
        if orphan.talking_to is not None:
            orphan.channels.remove(orphan.talking_to)
    result.orphans = list(orphans.values())
    return result


def _agent_in(bridge: Bridge, call: str, by_id: dict[str, Channel]) -> str | None:
    """An answered agent leg of ``call`` in ``bridge``, if any."""
    for channel_id in bridge.channels:
        channel = by_id.get(channel_id)
        if channel is None or owner_of(channel_id) != call:
            continue
        if "-agent-" in channel_id and channel.state == "Up":
            return channel_id
    return None


async def clean(ari: AriClient, channel_ids: Iterable[str], bridge_ids: Iterable[str]) -> None:
    """Hang up ``channel_ids`` and destroy ``bridge_ids``; already gone is fine."""
    for channel_id in channel_ids:
        with contextlib.suppress(AriError):
            await ari.hangup(channel_id)
    for bridge_id in bridge_ids:
        with contextlib.suppress(AriError):
            await ari.destroy_bridge(bridge_id)
