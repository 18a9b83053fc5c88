"""The fake Asterisk's control API over HTTP, under ``/fake`` (not part of ARI).

| method | path | what |
| --- | --- | --- |
| POST | /fake/calls | a call: JSON did, caller_number, caller_name, app, args, context |
| GET | /fake/channels, /fake/bridges | live channels / bridges (leak checks) |
| POST | /fake/channels/{id}/audio?rate=16000 | the party says raw 16-bit LE PCM (body) |
| POST | /fake/channels/{id}/dtmf?digits=12#&duration_ms=100 | the party presses keys |
| POST | /fake/channels/{id}/hangup | the party hangs up |
| POST | /fake/channels/{id}/answer | a ringing agent phone answers now |
| POST | /fake/channels/{id}/ring-out | a ringing agent's dial times out now |
| GET | /fake/channels/{id}/dialplan | where the call went in the dialplan |
| GET | /fake/channels/{id}/heard?rate=16000&format=wav | what the party heard |
| GET | /fake/channels/{id}/dtmf | digits the app sent to the party |
| PUT | /fake/endpoints/{tech}/{resource} | JSON ``{behaviour, answer_delay}`` |
| GET | /fake/requests | every ARI request the fake was asked |
| POST | /fake/events/drop | close all events WebSockets (reconnect tests) |
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ari_app.testing import audio
from ari_app.testing.model import RATE, Behaviour, FakeError

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guard(fn: Callable[[web.Request], Awaitable[Any]]) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            result = await fn(request)
        except FakeError as exc:
            return web.json_response({"message": exc.message}, status=exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"message": f"bad request: {exc}"}, status=400)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204)
        return web.json_response(result)

    return wrapped


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise FakeError(400, "body must be a JSON object")
    return data


def add_control_routes(app: web.Application, fake: FakeAsterisk) -> None:
    """Register the ``/fake/...`` control routes."""

    async def place_call(request: web.Request) -> Any:
        body = await _json_body(request)
        call = await fake.place_call(
            did=str(body.get("did", "100")),
            caller_number=str(body.get("caller_number", "+15550100")),
            caller_name=str(body.get("caller_name", "")),
            app=str(body.get("app", "ari_app")),
            args=[str(a) for a in body.get("args", [])],
            context=str(body.get("context", "from-trunk")),
        )
        return web.json_response({"channel": call.channel.to_json()}, status=201)

    async def channels(request: web.Request) -> Any:
        return [
            {**c.to_json(), "kind": c.kind.value, "bridge_id": c.bridge_id}
            for c in fake.channels.values()
        ]

    async def bridges(request: web.Request) -> Any:
        return [b.to_json() for b in fake.bridges.values()]

    async def send_audio(request: web.Request) -> Any:
        rate = int(request.query.get("rate", RATE))
        fake.send_audio(request.match_info["id"], await request.read(), rate)

    async def send_dtmf(request: web.Request) -> Any:
        duration = int(request.query.get("duration_ms", 100))
        fake.press_dtmf(request.match_info["id"], request.query["digits"], duration)

    async def answer(request: web.Request) -> Any:
        fake.agent_answers(request.match_info["id"])

    async def ring_out(request: web.Request) -> Any:
        fake.agent_rings_out(request.match_info["id"])

    async def dialplan(request: web.Request) -> Any:
        cid = request.match_info["id"]
        channel = fake.channels.get(cid) or fake.finished_channels.get(cid)
        if channel is None:
            raise FakeError(404, "Channel not found")
        return {"steps": channel.dialplan_log, "sip_final": channel.sip_final}

    async def hangup(request: web.Request) -> Any:
        await fake.hangup_from_party(request.match_info["id"], int(request.query.get("cause", 16)))

    async def heard(request: web.Request) -> Any:
        rate = int(request.query.get("rate", RATE))
        pcm = fake.heard(request.match_info["id"], rate, clear=request.query.get("clear") == "true")
        if request.query.get("format") == "wav":
            return web.Response(body=audio.wav_bytes(pcm, rate), content_type="audio/wav")
        return web.Response(body=pcm, content_type="application/octet-stream")

    async def dtmf_sent(request: web.Request) -> Any:
        channel = fake.channels.get(request.match_info["id"]) or fake.finished_channels.get(
            request.match_info["id"]
        )
        if channel is None:
            raise FakeError(404, "Channel not found")
        return {"digits": "".join(channel.dtmf_sent_to_party)}

    async def endpoint(request: web.Request) -> Any:
        body = await _json_body(request)
        name = f"{request.match_info['tech']}/{request.match_info['resource']}"
        agent = fake.configure_endpoint(
            name, Behaviour(body.get("behaviour", "answer")), body.get("answer_delay")
        )
        return {**agent.to_json(), "behaviour": agent.behaviour.value}

    async def requests(request: web.Request) -> Any:
        return list(fake.request_log)

    async def drop_events(request: web.Request) -> Any:
        await fake.drop_event_sockets()

    app.router.add_post("/fake/calls", _guard(place_call))
    app.router.add_get("/fake/channels", _guard(channels))
    app.router.add_get("/fake/bridges", _guard(bridges))
    app.router.add_post("/fake/channels/{id}/audio", _guard(send_audio))
    app.router.add_post("/fake/channels/{id}/dtmf", _guard(send_dtmf))
    app.router.add_get("/fake/channels/{id}/dtmf", _guard(dtmf_sent))
    app.router.add_post("/fake/channels/{id}/hangup", _guard(hangup))
    app.router.add_post("/fake/channels/{id}/answer", _guard(answer))
    app.router.add_post("/fake/channels/{id}/ring-out", _guard(ring_out))
    app.router.add_get("/fake/channels/{id}/dialplan", _guard(dialplan))
    app.router.add_get("/fake/channels/{id}/heard", _guard(heard))
    app.router.add_put("/fake/endpoints/{tech}/{resource}", _guard(endpoint))
    app.router.add_get("/fake/requests", _guard(requests))
    app.router.add_post("/fake/events/drop", _guard(drop_events))
