"""Bridges of the fake Asterisk: create (409 on a re-used id), join, leave, destroy.

As on Asterisk 22: no ``BridgeCreated`` for a bridge the app creates; the app is
subscribed to the bridge once one of its channels joins (from then on it gets
``BridgeDestroyed``); a two-party mixing bridge uses ``simple_bridge`` (``native_rtp``
when both parties are SIP phones, ``softmix`` from three); when a bridge becomes
two-party, each party whose connected line changes gets ``ChannelConnectedLine``.
"""

from __future__ import annotations

import uuid

from ari_app.testing.core import FakeCore
from ari_app.testing.model import ChannelKind, FakeBridge, FakeChannel, FakeError

SIP_KINDS = (ChannelKind.CALLER, ChannelKind.AGENT)


class BridgeOps(FakeCore):
    """Bridge behaviour."""

    def bridge(self, bridge_id: str) -> FakeBridge:
        """The bridge ``bridge_id`` or a 404 FakeError."""
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise FakeError(404, "Bridge not found")
        return bridge

    def create_bridge(
        self, bridge_type: str, bridge_id: str | None, name: str, app: str
    ) -> FakeBridge:
        """Create a bridge for ``app`` (409 when ``bridge_id`` is in use)."""
        types = {t.strip() for t in bridge_type.split(",") if t.strip()} or {"mixing"}
        if bridge_id and bridge_id in self.bridges:
            raise FakeError(409, f"Bridge with id '{bridge_id}' already exists")
        kind = "holding" if "holding" in types else "mixing"
        bridge = FakeBridge(id=bridge_id or str(uuid.uuid4()), bridge_type=kind, name=name, app=app)
        self.bridges[bridge.id] = bridge
        self.notify()
        return bridge

    def _choose_technology(self, bridge: FakeBridge) -> None:
        if bridge.bridge_type != "mixing":
            return
        members = [self.channels.get(cid) for cid in bridge.channels]
        if len(members) == 2 and all(m is not None and m.kind in SIP_KINDS for m in members):
            bridge.technology = "native_rtp"
        elif len(members) <= 2:
            bridge.technology = "simple_bridge"
        else:
            bridge.technology = "softmix"

    def bridge_add(self, bridge: FakeBridge, channel: FakeChannel) -> None:
        """Add ``channel`` (leaving any other bridge first)."""
        if channel.bridge_id == bridge.id:
            return
        if channel.bridge_id and channel.bridge_id in self.bridges:
            self.bridge_remove(self.bridges[channel.bridge_id], channel)
        bridge.channels.append(channel.id)
        channel.bridge_id = bridge.id
        if not bridge.app:
            bridge.app = channel.app
        bridge.subscribed = True
        self.emit(
            bridge.app or channel.app,
            "ChannelEnteredBridge",
            bridge=bridge.to_json(),
            channel=channel.to_json(),
        )
        self.notify()

    def bridge_joined(self, bridge: FakeBridge) -> None:
        """After channels joined: pick the technology and update connected lines."""
        self._choose_technology(bridge)
        if len(bridge.channels) != 2:
            return
        first, second = (self.channels.get(cid) for cid in bridge.channels)
        if first is None or second is None:
            return
        for party, peer in ((second, first), (first, second)):
            peer_id = (peer.caller_name, peer.caller_number)
            if (party.connected_name, party.connected_number) != peer_id:
                party.connected_name, party.connected_number = peer_id
                self.emit(party.app, "ChannelConnectedLine", channel=party.to_json())

    def bridge_remove(self, bridge: FakeBridge, channel: FakeChannel) -> None:
        """Remove ``channel`` from ``bridge``."""
        if channel.id in bridge.channels:
            bridge.channels.remove(channel.id)
        channel.bridge_id = None
        self.emit(
            bridge.app or channel.app,
            "ChannelLeftBridge",
            bridge=bridge.to_json(),
            channel=channel.to_json(),
        )
        self._choose_technology(bridge)
        self.notify()

    def destroy_bridge(self, bridge: FakeBridge) -> None:
        """Destroy ``bridge`` (its channels leave it first, and stay in Stasis)."""
        for channel_id in list(bridge.channels):
            channel = self.channels.get(channel_id)
            if channel is not None:
                self.bridge_remove(bridge, channel)
        self.end_bridge_media(bridge)
        del self.bridges[bridge.id]
        if bridge.subscribed:
            self.emit(bridge.app, "BridgeDestroyed", bridge=bridge.to_json())
        self.notify()

    def end_bridge_media(self, bridge: FakeBridge) -> None:
        """Stop the bridge's playbacks and recording (the playback layer implements it)."""
