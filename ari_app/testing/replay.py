"""Replay a captured ARI conversation with a real Asterisk against the fake, and compare.

A capture (``../shared/ari-captures/*.jsonl``) is one JSON object a line: the app's REST
``request`` (method, uri, params), Asterisk's ``response`` (status, body) and the
``event`` s on the app's WebSocket, in wire order. :func:`replay` plays the app's part
(the same requests, in the same order, ids mapped to the fake's) and the outside world's
part through the fake's control API, at the points the capture shows it:

- a ``StasisStart`` of a channel no request created: a caller dials in (``place_call``
  with the captured caller id, extension, context and Stasis arguments);
- ``Dial ""`` of an externalMedia channel: Asterisk's dialling thread goes on (the fake
  holds those channels, so requests sent before it meet the channel ``Down``);
- ``ChannelStateChange Up`` of a chan_websocket channel: the app connects its media socket;
- ``ChannelStateChange Up`` of a ringing agent: the agent answers; ``ChannelDestroyed``
  cause 19 of a ringing agent: the dial times out;
- ``ChannelHangupRequest`` without a cause: the far party hangs up;
- ``ChannelDtmfReceived``: the caller presses the key; ``RecordingFinished``: the caller
  stopped talking (the recording ends);
- a second ``GET events``: the app was killed (its WebSocket closes) and started again.

Before each request and each outside action it waits until the fake has sent at least as
many events as the capture shows before that point. :class:`Replay` then holds what both
sides did, as comparable sequences: HTTP statuses (and the channel ``state`` of channel
bodies) in order, and per channel / bridge / recording the events in order as
(type, key fields). ``ChannelVarset`` is left out on both sides (the fake does not model
the ~18 a call Asterisk sends), and ids and times are never compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.testing.model import Behaviour, Json

IGNORED_EVENTS = frozenset({"ChannelVarset"})
"""Event types left out of the comparison on both sides."""
UNORDERED = frozenset({("Dial", "RINGING"), ("ChannelStateChange", "Ringing")})
"""Adjacent events Asterisk publishes from two threads, in either order (both orders are in
the captures): compared as a set."""
SYNC_SECONDS = 5.0


def load_capture(path: Path) -> list[Json]:
    """The capture's entries, in order."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _status(entry: Json) -> int:
    return int(str(entry["status"]).split()[0])


def _subject(event: Json) -> Json | None:
    found = event.get("channel") or event.get("peer")
    return found if isinstance(found, dict) else None


@dataclass
class Replay:
    """What the capture and the fake did, in comparable form."""

    expected_statuses: list[tuple[str, int, str]] = field(default_factory=list)
    actual_statuses: list[tuple[str, int, str]] = field(default_factory=list)
    expected_events: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    actual_events: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    """The outside-world actions the replay performed, in order."""


class _Ids:
    """Captured id <-> fake id, for inbound channels (other ids the app derives from them)."""

    def __init__(self) -> None:
        self.to_fake: dict[str, str] = {}

    def _swap(self, text: str, pairs: Iterable[tuple[str, str]]) -> str:
        for old, new in sorted(pairs, key=lambda p: -len(p[0])):
            text = re.sub(re.escape(old) + r"(?=$|[-,/])", new, text)
        return text

    def fake(self, text: str) -> str:
        """A captured id (or text holding ids) in the fake's terms."""
        return self._swap(text, self.to_fake.items())

    def captured(self, text: str) -> str:
        """A fake id (or text holding ids) in the capture's terms."""
        return self._swap(text, ((v, k) for k, v in self.to_fake.items()))


def event_key(event: Json, ids: _Ids | None = None) -> tuple[str, tuple[Any, ...]] | None:
    """(object, comparable fields) of one event; None for events left out."""
    kind = str(event.get("type"))
    if kind in IGNORED_EVENTS:
        return None
    name: Any = ids.captured if ids is not None else (lambda s: s)
    fields: list[Any] = [kind]
    subject = _subject(event)
    obj = ""
    if subject is not None:
        obj = "channel:" + name(str(subject.get("id")))
        fields.append(subject.get("state"))
    bridge = event.get("bridge")
    if isinstance(bridge, dict):
        obj = obj or "bridge:" + name(str(bridge.get("id")))
        fields += [name(str(bridge.get("id"))), bridge.get("technology"), len(bridge["channels"])]
    if kind == "Dial":
        fields.append(event.get("dialstatus"))
    elif kind == "ChannelHangupRequest":
        fields += [event.get("cause"), event.get("soft")]
    elif kind == "ChannelDestroyed":
        fields += [event.get("cause"), event.get("tech_cause")]
    elif kind == "StasisStart":
        fields.append(tuple(name(str(a)) for a in event.get("args", [])))
    elif kind == "ChannelDtmfReceived":
        fields += [event.get("digit"), event.get("duration_ms")]
    recording = event.get("recording")
    if isinstance(recording, dict):
        obj = "recording:" + str(recording.get("name"))
        durations = ("duration", "talking_duration", "silence_duration")
        fields += [
            recording.get("state"),
            recording.get("format"),
            tuple(sorted(recording)),
            all(isinstance(recording.get(k, 0), int) for k in durations),
        ]
    playback = event.get("playback")
    if isinstance(playback, dict):
        obj = "playback:" + str(playback.get("media_uri"))
        fields.append(playback.get("state"))
    return obj or kind, tuple(fields)


def _canonical(sequence: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # Dial RINGING carries the channel's state before or after the Ringing state change,
    # depending on which thread won: the state is not compared there.
    out = [(f[0], None, *f[2:]) if (f[0], f[-1]) == ("Dial", "RINGING") else f for f in sequence]
    for i in range(len(out) - 1):
        first, second = out[i], out[i + 1]
        pair = {(first[0], first[-1]), (second[0], second[-1])}
        if len(pair) == 2 and pair <= UNORDERED and repr(first) > repr(second):
            out[i], out[i + 1] = second, first
    return out


def _group(events: Iterable[Json], ids: _Ids | None) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for event in events:
        key = event_key(event, ids)
        if key is not None:
            grouped.setdefault(key[0], []).append(key[1])
    return {obj: _canonical(seq) for obj, seq in grouped.items()}


class _Driver:
    """Plays one capture against a started fake."""

    def __init__(self, fake: FakeAsterisk, entries: list[Json]) -> None:
        self.fake = fake
        self.entries = entries
        self.ids = _Ids()
        self.result = Replay()
        self.received: list[Json] = []
        self.changed = asyncio.Event()
        self.session = aiohttp.ClientSession(headers={"Authorization": fake.auth_header})
        self.events_ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.media_sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.statuses: dict[int, tuple[int, Any]] = {}
        """Index of a request entry -> the fake's (status, body)."""
        self.hung_up: set[str] = set()
        self.created: set[str] = set()
        self.ws_connection: dict[str, str] = {}
        self.in_sync = True

    # --- the app's events socket -------------------------------------------------------

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self.received.append(json.loads(message.data))
                self.changed.set()

    async def connect_events(self, params: dict[str, str]) -> None:
        """The app (re)starts: close any old events socket, open a new one."""
        if self.events_ws is not None:
            await self.events_ws.close()
            if self.reader is not None:
                await self.reader
            self.result.actions.append("app killed")
            app = params.get("app", "")
            await self.fake.wait_until(lambda: not self.fake.app_registered(app))
        url = URL(self.fake.ari_url + "/events").with_query(params)
        self.events_ws = await self.session.ws_connect(url)
        self.reader = asyncio.create_task(self._read(self.events_ws))
        await self.fake.wait_until(lambda: self.fake.app_registered(params.get("app", "")))

    def _comparable(self, events: Iterable[Json]) -> int:
        return sum(1 for e in events if e.get("type") not in IGNORED_EVENTS)

    async def sync(self, index: int) -> None:
        """Wait until the fake sent as many events as the capture had before ``index``."""
        if not self.in_sync:
            return
        want = self._comparable(e["json"] for e in self.entries[:index] if e["kind"] == "event")
        try:
            async with asyncio.timeout(SYNC_SECONDS):
                while self._comparable(self.received) < want:
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            self.in_sync = False  # the comparison will show where the fake differs

    # --- the app's requests ------------------------------------------------------------

    async def request(self, index: int, entry: Json) -> None:
        """Send the captured request (ids mapped); remember the fake's answer."""
        params = {k: self.ids.fake(str(v)) for k, v in (entry.get("params") or {}).items()}
        if entry["uri"] == "events":
            await self.connect_events(params)
            return
        if "channelId" in params:
            self.created.add(params["channelId"])
        if entry["method"] == "DELETE" and entry["uri"].startswith("channels/"):
            self.hung_up.add(self.ids.fake(entry["uri"].split("/")[1]))
        path = self.ids.fake(entry["uri"])
        url = URL(f"{self.fake.ari_url}/{path}", encoded=True).update_query(params)
        async with self.session.request(entry["method"], url) as response:
            raw = await response.read()
            body: Any = None
            if response.content_type == "application/json" and raw:
                body = json.loads(raw)
            self.statuses[index] = (response.status, body)
            if isinstance(body, dict):
                connection = (body.get("channelvars") or {}).get("MEDIA_WEBSOCKET_CONNECTION_ID")
                if connection:
                    self.ws_connection[str(body["id"])] = str(connection)

    def _pair_responses(self) -> dict[int, Json]:
        """Request index -> its captured response (the next one on the same connection)."""
        pending: dict[str, list[int]] = {}
        pairs: dict[int, Json] = {}
        for index, entry in enumerate(self.entries):
            peer = str(entry.get("peer"))
            if entry["kind"] == "request" and entry["uri"] != "events":
                pending.setdefault(peer, []).append(index)
            elif entry["kind"] == "response" and pending.get(peer):
                pairs[pending[peer].pop(0)] = entry
        return pairs

    # --- the outside world -----------------------------------------------------------

    def configure_agents(self) -> None:
        """Agents ring until the replay makes them answer or ring out; offline as captured."""
        for endpoint in self.fake.endpoints.values():
            self.fake.configure_endpoint(endpoint.name, Behaviour.MANUAL)
        for entry in self.entries:
            body = entry.get("body")
            if entry["kind"] == "response" and isinstance(body, dict) and "technology" in body:
                name = f"{body['technology']}/{body.get('resource')}"
                if body.get("state") == "offline" and name in self.fake.endpoints:
                    self.fake.configure_endpoint(name, Behaviour.OFFLINE)
        self.fake.hold_media_answers = True

    async def outside(self, event: Json) -> None:
        """Do what the outside world did to cause ``event`` (nothing for the app's doing)."""
        kind = event["type"]
        subject = _subject(event) or {}
        captured_id = str(subject.get("id", ""))
        name = str(subject.get("name", ""))
        fake_id = self.ids.fake(captured_id)
        media = name.startswith(("UnicastRTP/", "WebSocket/"))
        hung_up = self.hung_up
        if kind == "StasisStart" and captured_id not in self.ids.to_fake and not media:
            if fake_id in self.created:
                return
            plan = subject.get("dialplan", {})
            caller = subject.get("caller", {})
            app, *args = str(plan.get("app_data", "")).split(",")
            call = await self.fake.place_call(
                did=str(plan.get("exten")),
                caller_number=str(caller.get("number", "")),
                caller_name=str(caller.get("name", "")),
                app=app,
                args=args,
                context=str(plan.get("context")),
            )
            self.ids.to_fake[captured_id] = call.channel_id
            self.result.actions.append(f"call {plan.get('exten')} from {caller.get('number')}")
        elif kind == "Dial" and media and event.get("dialstatus") == "":
            self.release(fake_id)
        elif kind == "ChannelStateChange" and subject.get("state") == "Up":
            channel = self.fake.channels.get(fake_id)
            if channel is None:
                return
            if name.startswith("WebSocket/"):
                connection = self.ws_connection[fake_id]
                url = f"{self.fake.url}/media/{connection}"
                ws = await self.session.ws_connect(url, protocols=("media",))
                self.media_sockets.append(ws)
                self.result.actions.append("media socket connected")
            elif channel.endpoint is not None and channel.state == "Ringing":
                self.fake.agent_answers(fake_id)
                self.result.actions.append(f"{channel.endpoint.name} answers")
        elif kind == "ChannelDestroyed" and event.get("cause") == 19 and fake_id not in hung_up:
            self.fake.agent_rings_out(fake_id)
            self.result.actions.append("agent rings out")
        elif kind == "ChannelHangupRequest" and "cause" not in event:
            await self.fake.hangup_from_party(fake_id)
            self.result.actions.append("caller hangs up")
        elif kind == "ChannelDtmfReceived":
            self.fake.press_dtmf(fake_id, str(event["digit"]), int(event["duration_ms"]))
            self.result.actions.append(f"caller presses {event['digit']}")
        elif kind == "RecordingFinished":
            recording = self.fake.recordings.get(str(event["recording"]["name"]))
            if recording is not None:
                self.fake.finish_recording(recording, "done")
                self.result.actions.append("caller stops talking")

    def release(self, fake_id: str) -> None:
        """Asterisk's dialling thread answers a held externalMedia channel (once)."""
        channel = self.fake.channels.get(fake_id)
        if channel is not None and channel.media_pending and not channel.release.is_set():
            self.fake.release_media(fake_id)
            self.result.actions.append("media channel dialled")

    def release_during(self, start: int, end: int) -> None:
        """Releases the capture shows between a request and its response: Asterisk handled
        the request after them, so they happen first."""
        for entry in self.entries[start + 1 : end]:
            event = entry.get("json") or {}
            subject = _subject(event) or {}
            if (
                entry["kind"] == "event"
                and event.get("type") == "Dial"
                and not event.get("dialstatus")
            ):
                self.release(self.ids.fake(str(subject.get("id", ""))))

    # --- the whole run -----------------------------------------------------------------

    async def run(self) -> Replay:
        """Play every entry, then collect both sides' sequences."""
        self.configure_agents()
        responses = self._pair_responses()
        try:
            for index, entry in enumerate(self.entries):
                if entry["kind"] == "request":
                    await self.sync(index)
                    if index in responses:
                        self.release_during(index, self.entries.index(responses[index]))
                    await self.request(index, entry)
                elif entry["kind"] == "event":
                    if self.events_ws is None:  # a capture that starts mid-session
                        app = str(entry["json"].get("application", ""))
                        await self.connect_events({"app": app, "subscribeAll": "false"})
                    await self.sync(index)
                    await self.outside(entry["json"])
            await self.sync(len(self.entries))
        finally:
            await self.close()
        for index, response in sorted(responses.items()):
            request = self.entries[index]
            label = f"{request['method']} {request['uri']}"
            status, body = self.statuses.get(index, (0, None))
            self.result.expected_statuses.append((label, _status(response), _state(response)))
            self.result.actual_statuses.append((label, status, _state({"body": body})))
        self.result.expected_events = _group(
            (e["json"] for e in self.entries if e["kind"] == "event"), None
        )
        self.result.actual_events = _group(self.received, self.ids)
        return self.result

    async def close(self) -> None:
        """Close every socket the replay opened."""
        for ws in self.media_sockets:
            await ws.close()
        if self.events_ws is not None:
            await self.events_ws.close()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        await self.session.close()


def _state(entry: Json) -> str:
    """What of a response body is compared: a channel's state, a list's length."""
    body = entry.get("body")
    if isinstance(body, dict) and "caller" in body:
        return f"channel {body.get('state')}"
    if isinstance(body, list):
        return f"{len(body)} items"
    return ""


async def replay(fake: FakeAsterisk, capture: Path) -> Replay:
    """Play ``capture`` against ``fake`` (started, lab dialplan) and return both sides."""
    entries = await asyncio.to_thread(load_capture, capture)
    return await _Driver(fake, entries).run()
