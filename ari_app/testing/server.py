"""The fake Asterisk's aiohttp application: auth, ARI routes, events and media WebSockets.

``/ari/...`` serves :data:`ari_app.testing.routes.ROUTES` with Asterisk's parameter
validation (400 missing/invalid parameter, JSON ``{"message": ...}`` errors), ``/ari/events``
is the events WebSocket, ``/media/{connection_id}`` the chan_websocket media endpoint and
``/fake/...`` the control API. Everything needs HTTP basic auth (or ``api_key=user:pass``)
and answers 401 without it, as Asterisk's HTTP server does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ari_app.testing.ari_handlers import AriHandlers
from ari_app.testing.control import add_control_routes
from ari_app.testing.model import AppState, FakeError, timestamp
from ari_app.testing.request import AriRequest, Created, Result
from ari_app.testing.routes import ROUTES, Route

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAKE_KEY = web.AppKey("fake", object)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def _authorized(request: web.Request, username: str, password: str) -> bool:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{username}:{password}"
    return request.query.get("api_key") == f"{username}:{password}"


def _auth_middleware(fake: FakeAsterisk) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not _authorized(request, fake.username, fake.password):
            response = _error(401, "Authentication required")
            response.headers["WWW-Authenticate"] = 'Basic realm="Asterisk REST Interface"'
            return response
        return await handler(request)

    return middleware


async def _params(request: web.Request, route: Route) -> tuple[dict[str, str], dict[str, Any]]:
    params: dict[str, str] = {}
    for key in request.query:
        if key != "api_key":
            params[key] = ",".join(request.query.getall(key))
    body: dict[str, Any] = {}
    if request.can_read_body:
        raw = await request.read()
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError:
                raise FakeError(400, "Error parsing request body") from None
            if not isinstance(parsed, dict):
                raise FakeError(400, "Request body must be a JSON object")
            body = parsed
    for key, value in body.items():
        if key in route.body or key in params:
            continue
        params[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return params, body


def _validate(route: Route, params: dict[str, str]) -> None:
    missing = [name for name in route.required if not params.get(name)]
    if missing:
        raise FakeError(400, f"Missing required parameter(s): {', '.join(missing)}")
    for name, allowed in route.choices.items():
        if name in params:
            for value in params[name].split(","):
                if value not in allowed:
                    raise FakeError(
                        400, f"Invalid value {value!r} for {name}; allowed: {', '.join(allowed)}"
                    )


def _ari_handler(fake: FakeAsterisk, handlers: AriHandlers, route: Route) -> Handler:
    method = getattr(handlers, route.handler)

    async def handle(request: web.Request) -> web.StreamResponse:
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "template": route.template,
            "operation": route.handler,
            "params": {},
            "body": {},
        }
        fake.request_log.append(entry)
        fake.begin_request()
        try:
            try:
                params, body = await _params(request, route)
                entry.update(params=dict(params), body=body)
                _validate(route, params)
                result = await method(
                    AriRequest(path=dict(request.match_info), params=params, variables=body)
                )
                response = _response(result)
            except FakeError as exc:
                response = _error(exc.status, exc.message)
            entry["status"] = response.status
            # Asterisk's other threads act after the answer: send it first, then run them.
            await response.prepare(request)
            await response.write_eof()
        finally:
            work = fake.end_request()
        for item in work:
            item()
        return response

    return handle


def _response(result: Result) -> web.Response:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, bytes):
        return web.Response(body=result, content_type="audio/wav")
    if isinstance(result, Created):
        return web.json_response(result.body, status=201)
    return web.json_response(result)


def _events_handler(fake: FakeAsterisk, route: Route) -> Handler:
    async def events(request: web.Request) -> web.StreamResponse:
        try:
            params, _ = await _params(request, route)
            _validate(route, params)
        except FakeError as exc:
            return _error(exc.status, exc.message)
        fake.request_log.append(
            {
                "method": "GET",
                "path": request.path,
                "template": route.template,
                "operation": "events",
                "params": dict(params),
                "body": {},
            }
        )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        apps = [a for a in params["app"].split(",") if a]
        states: list[AppState] = []
        for app in apps:
            state = fake.apps.setdefault(app, AppState(app))
            for old in state.sockets:
                old.put_nowait(
                    json.dumps(
                        {
                            "type": "ApplicationReplaced",
                            "application": app,
                            "timestamp": timestamp(),
                        }
                    )
                )
                old.put_nowait(None)
            state.sockets = [queue]
            state.subscribe_all = params.get("subscribeAll", "false").lower() == "true"
            states.append(state)
        fake.notify()
        writer = asyncio.create_task(_write_events(ws, queue), name="fake-events-writer")
        try:
            async for _msg in ws:
                pass  # Asterisk ignores what clients send on the events socket
        finally:
            for state in states:
                if queue in state.sockets:
                    state.sockets.remove(queue)
            queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            fake.notify()
        return ws

    return events


async def _write_events(ws: web.WebSocketResponse, queue: asyncio.Queue[str | None]) -> None:
    while True:
        item = await queue.get()
        if item is None:
            await ws.close()
            return
        try:
            await ws.send_str(item)
        except (ConnectionError, RuntimeError):
            return


def _media_handler(fake: FakeAsterisk) -> Handler:
    async def media(request: web.Request) -> web.StreamResponse:
        leg = fake.ws_media.get(request.match_info["connection_id"])
        if leg is None or leg.ws is not None:
            return _error(404, "No such media connection")
        ws = web.WebSocketResponse(protocols=("media",))
        await ws.prepare(request)
        channel = leg.channel
        await leg.serve(ws, lambda: fake.media_connected(channel))
        if not channel.destroyed:
            fake.hangup_now(channel, 16, soft=False)
        return ws

    return media


async def _not_found(request: web.Request) -> web.StreamResponse:
    return _error(404, "Resource not found")


def build_app(fake: FakeAsterisk) -> web.Application:
    """The aiohttp application serving ``fake``."""
    app = web.Application(middlewares=[_auth_middleware(fake)])
    app[FAKE_KEY] = fake
    handlers = AriHandlers(fake)
    for route in ROUTES:
        path = "/ari" + route.template
        if route.handler == "events":
            app.router.add_route(route.method, path, _events_handler(fake, route))
        else:
            app.router.add_route(route.method, path, _ari_handler(fake, handlers, route))
    app.router.add_get("/media/{connection_id}", _media_handler(fake))
    add_control_routes(app, fake)
    app.router.add_route("*", "/ari/{tail:.*}", _not_found)
    return app


def ari_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, template relative to /ari) of every ARI route registered in ``app``."""
    out = []
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("formatter") or info.get("path") or ""
        if not path.startswith("/ari/") or "{tail" in path:
            continue
        for route in resource:
            if route.method != "HEAD":
                out.append((route.method, path[len("/ari") :]))
    return out
