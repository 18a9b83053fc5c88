"""The fake Asterisk's 20 ms media tick: who hears what.

Every tick each live, answered channel says one frame (its ``inbound`` audio or silence);
each mixing bridge gives every member the sum of the other members; a channel's own
playback replaces what it hears, a bridge playback is added for all members; recordings
take what their channel says (or the bridge mix); snoop channels copy their target.
Before answer, a channel hears only its playbacks (early media) and what it says is lost.
As on Asterisk, an externalMedia channel is sent audio only while something feeds it (a
bridge peer, a playback): alone in its bridge, it gets no RTP / WebSocket frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ari_app.testing import audio
from ari_app.testing.model import FRAME_BYTES, ChannelKind, FakeChannel

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk

SILENCE = bytes(FRAME_BYTES)
MEDIA_KINDS = (ChannelKind.UNICAST_RTP, ChannelKind.WEBSOCKET)


def _playback_frame(fake: FakeAsterisk, playback_ids: list[str]) -> bytes | None:
    if not playback_ids:
        return None
    playback = fake.playbacks.get(playback_ids[0])
    if playback is None or playback.state != "playing":
        return None
    frame = playback.next_frame()
    if frame is None:
        fake.finish_playback(playback, "done")
        return None
    return frame


def _says(channel: FakeChannel, fake: FakeAsterisk) -> bytes:
    if channel.kind is ChannelKind.SNOOP and channel.snoop_target:
        target = fake.channels.get(channel.snoop_target)
        if target is None:
            return SILENCE
        parts = []
        if channel.spy in ("in", "both"):
            parts.append(target.last_produced or SILENCE)
        if channel.spy in ("out", "both"):
            parts.append(target.last_heard or SILENCE)
        return audio.mix(parts) if parts else SILENCE
    return channel.take_frame()


def tick(fake: FakeAsterisk) -> None:
    """Advance every channel, bridge, playback and recording by 20 ms."""
    live = []
    for channel in fake.channels.values():
        if channel.destroyed:
            continue
        if channel.state == "Up":
            live.append(channel)
        elif channel.playback_ids:
            live.append(channel)  # early media: a playback before answer is heard
            channel.inbound.clear()
        else:
            channel.inbound.clear()  # what a caller says before answer is lost
    said: dict[str, bytes] = {}
    for channel in live:
        frame = _says(channel, fake)
        channel.last_produced = frame
        said[channel.id] = frame
    heard: dict[str, bytes] = dict.fromkeys(said, SILENCE)
    fed: set[str] = set()
    for bridge in list(fake.bridges.values()):
        members = [cid for cid in bridge.channels if cid in said]
        bridge_play = _playback_frame(fake, bridge.playback_ids)
        if bridge.bridge_type == "mixing":
            for cid in members:
                others = [said[o] for o in members if o != cid]
                if bridge_play is not None:
                    others.append(bridge_play)
                heard[cid] = audio.mix(others) if others else SILENCE
                if others:
                    fed.add(cid)
        elif bridge_play is not None:
            for cid in members:
                heard[cid] = bridge_play
                fed.add(cid)
        if bridge.recording and bridge.recording in fake.recordings:
            mixed = audio.mix([said[cid] for cid in members]) if members else SILENCE
            fake.record_frame(fake.recordings[bridge.recording], mixed)
    for channel in live:
        own = _playback_frame(fake, channel.playback_ids)
        if own is not None:
            heard[channel.id] = own
            fed.add(channel.id)
        elif channel.moh:
            heard[channel.id] = audio.tone(440, 20, 0.05)
            fed.add(channel.id)
        if channel.whisper != "none" and channel.snoop_target:
            target = fake.channels.get(channel.snoop_target)
            if target is not None and target.id in heard and channel.id in heard:
                heard[target.id] = audio.mix([heard[target.id], heard[channel.id]])
                fed.add(target.id)
    for channel in live:
        if channel.destroyed:
            continue
        recording_name = channel.recording
        if recording_name and recording_name in fake.recordings:
            recording = fake.recordings[recording_name]
            if recording.beep_frames > 0:
                recording.beep_frames -= 1
                heard[channel.id] = audio.tone(1000, 20)
            else:
                fake.record_frame(recording, said[channel.id])
        channel.hear(heard[channel.id], send=channel.id in fed or channel.kind not in MEDIA_KINDS)
    for leg in list(fake.ws_media.values()):
        leg.after_tick()
