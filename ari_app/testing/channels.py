"""Channels of the fake Asterisk: Stasis entry and exit, state, hangups, the dialplan.

Hangup event sequences are Asterisk 22's:

- the app hangs a channel up (``DELETE /channels/{id}``): ``ChannelHangupRequest``
  (``soft: true``, cause 32) → ``ChannelLeftBridge`` → ``StasisEnd``, then
  ``ChannelDestroyed`` only for a channel the app created (an inbound channel that left
  Stasis is no longer the app's: no ``ChannelDestroyed``); the events follow the response;
- the far party hangs up: ``ChannelHangupRequest`` without cause → ``ChannelLeftBridge``
  → ``StasisEnd`` (and ``ChannelDestroyed`` only for a channel the app created);
- ``continue`` ends Stasis with ``STASISSTATUS=SUCCESS`` and the channel goes on in the
  dialplan (:mod:`ari_app.testing.dialplan`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ari_app.testing.dialplan import DialplanRunner
from ari_app.testing.model import CAUSE_TEXT, ChannelKind, FakeChannel, FakeError
from ari_app.testing.playback import PlaybackOps

KEEP_FINISHED = 200
SIP_RESPONSE_OF_CAUSE = {1: 404, 17: 486, 18: 408, 19: 480, 20: 480, 21: 403, 34: 503, 38: 500}
"""What chan_pjsip answers an unanswered caller for a hangup cause (others: 603)."""
SOFT_HANGUP_EXPLICIT = 32
"""The ``cause`` of the ChannelHangupRequest an app's hangup gives (AST_SOFTHANGUP_EXPLICIT)."""


class ChannelOps(PlaybackOps):
    """Channel behaviour."""

    def channel(self, channel_id: str) -> FakeChannel:
        """The live channel ``channel_id`` or a 404 FakeError."""
        channel = self.channels.get(channel_id)
        if channel is None or channel.destroyed:
            raise FakeError(404, "Channel not found")
        return channel

    def stasis_channel(self, channel_id: str) -> FakeChannel:
        """Like :meth:`channel` but 409 when the channel is not in a Stasis app."""
        channel = self.channel(channel_id)
        if not channel.in_stasis:
            raise FakeError(409, "Channel not in Stasis application")
        return channel

    def add_channel(self, channel: FakeChannel) -> FakeChannel:
        """Register a new channel."""
        if channel.id in self.channels:
            raise FakeError(409, "Channel with given unique ID already exists")
        self.channels[channel.id] = channel
        self.notify()
        return channel

    def enter_stasis(self, channel: FakeChannel, app: str, args: Sequence[str]) -> None:
        """Put ``channel`` into ``Stasis(app, args)`` and emit StasisStart."""
        channel.app = app
        channel.in_stasis = True
        channel.app_name = "Stasis"
        channel.app_data = ",".join([app, *args])
        channel.variables["STASISSTATUS"] = ""
        self.emit(app, "StasisStart", args=list(args), channel=channel.to_json())
        self.notify()

    def leave_stasis(self, channel: FakeChannel) -> None:
        """End Stasis (StasisEnd, ``STASISSTATUS=SUCCESS``); an inbound channel stops being
        the app's."""
        if not channel.in_stasis:
            return
        channel.in_stasis = False
        self.emit(channel.app, "StasisEnd", channel=channel.to_json())
        channel.variables["STASISSTATUS"] = "SUCCESS"
        if not channel.originated:
            channel.app = None
        self.notify()

    def set_state(self, channel: FakeChannel, state: str) -> None:
        """Change the channel state and emit ChannelStateChange."""
        if channel.state == state:
            return
        channel.state = state
        self.emit(channel.app, "ChannelStateChange", channel=channel.to_json())
        self.notify()

    # --- hangups ----------------------------------------------------------------------

    def hangup(self, channel: FakeChannel, cause: int = 16) -> None:
        """The app hangs ``channel`` up; the events follow the REST response."""
        if channel.media_pending:
            channel.hangup_pending = cause
            return
        self.after_response(lambda: self.hangup_now(channel, cause, soft=True))

    def hangup_now(self, channel: FakeChannel, cause: int, *, soft: bool) -> None:
        """Hang ``channel`` up: ``soft`` for the app's request, else the far party's."""
        if channel.destroyed:
            return
        if soft:
            self.emit(
                channel.app,
                "ChannelHangupRequest",
                cause=SOFT_HANGUP_EXPLICIT,
                soft=True,
                channel=channel.to_json(),
            )
        else:
            self.emit(channel.app, "ChannelHangupRequest", channel=channel.to_json())
        if channel.dial_caller is not None:
            self.dial_ended(channel, "NOANSWER" if soft else "CANCEL")
        for playback_id in list(channel.playback_ids):
            playback = self.playbacks.get(playback_id)
            if playback is not None:
                self.finish_playback(playback, "done")
        if channel.recording and channel.recording in self.recordings:
            self.finish_recording(self.recordings[channel.recording], "done")
        if channel.bridge_id and channel.bridge_id in self.bridges:
            self.bridge_remove(self.bridges[channel.bridge_id], channel)
        self.leave_stasis(channel)
        if channel.kind is ChannelKind.CALLER and channel.state != "Up":
            channel.sip_final = SIP_RESPONSE_OF_CAUSE.get(cause, 603)
        self.destroy(channel, cause)

    def dial_ended(self, channel: FakeChannel, status: str) -> None:
        """A ringing dial of ``channel`` ended (the agent layer emits the Dial event)."""
        channel.dial_caller = None

    def destroy(self, channel: FakeChannel, cause: int, tech_cause: int | None = None) -> None:
        """The channel is gone: ChannelDestroyed to the app still subscribed to it."""
        if channel.destroyed:
            return
        channel.destroyed = True
        channel.variables.setdefault("HANGUPCAUSE", str(cause))
        extra = {} if tech_cause is None else {"tech_cause": tech_cause}
        self.emit(
            channel.app,
            "ChannelDestroyed",
            cause=cause,
            cause_txt=CAUSE_TEXT.get(cause, "Unknown"),
            **extra,
            channel=channel.to_json(),
        )
        del self.channels[channel.id]
        self.finished_channels[channel.id] = channel
        for kept in (self.finished_channels, self.rtp_legs):
            while len(kept) > KEEP_FINISHED:
                del kept[next(iter(kept))]
        for closer in channel.closers:
            result = closer()
            if hasattr(result, "__await__"):
                self.spawn(result, f"close-{channel.id}")
        self.channel_gone(channel)
        self.notify()

    def channel_gone(self, channel: FakeChannel) -> None:
        """Endpoint bookkeeping after a channel is destroyed (the agent layer implements it)."""

    def shutdown_channels(self) -> None:
        """Asterisk stops: every channel is hung up."""
        for channel in list(self.channels.values()):
            self.hangup_now(channel, 16, soft=False)

    # --- the dialplan -----------------------------------------------------------------

    def continue_in_dialplan(
        self, channel: FakeChannel, context: str, exten: str, priority: int | None, label: str
    ) -> None:
        """``POST /channels/{id}/continue``: after the response, StasisEnd and on in the
        dialplan at the next priority (or at the given place)."""

        def resume() -> None:
            if channel.destroyed or not channel.in_stasis:
                return
            runner = DialplanRunner(self, channel)  # type: ignore[arg-type]
            if channel.bridge_id and channel.bridge_id in self.bridges:
                self.bridge_remove(self.bridges[channel.bridge_id], channel)
            self.leave_stasis(channel)
            if context or exten or priority is not None or label:
                runner.goto(context or channel.context, exten or channel.exten, 1)
                channel.priority = runner._label(label) if label else priority or 1
            else:
                channel.priority += 1
            channel.dialplan_log.append(
                f"{channel.context},{channel.exten},{channel.priority} after continue"
            )
            runner.run()

        self.after_response(resume)

    def dialplan_hangup(self, channel: FakeChannel, where: str) -> None:
        """``Hangup()`` (or the end of an extension) in the dialplan."""
        if channel.kind is ChannelKind.CALLER and channel.state != "Up":
            channel.dialplan_log.append(f"{where} -> hung up with 603")
        else:
            channel.dialplan_log.append(f"{where} -> hung up")
        self.hangup_now(channel, 16, soft=False)
