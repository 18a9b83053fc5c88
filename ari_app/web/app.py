"""The dashboard web application (aiohttp): pages, JSON, voicemail audio and ``/metrics``."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from ari_app.store import CallRecord, StoreReader
from ari_app.store.report import build_report
from ari_app.web import metrics
from ari_app.web.auth import DashboardError, token_middleware
from ari_app.web.guard import RUNNER_SETTINGS, ConnectionGuard, GuardedSite, quiet_accept_errors
from ari_app.web.pages import call_html, dashboard_html

log = logging.getLogger(__name__)

READER: web.AppKey[StoreReader] = web.AppKey("reader", StoreReader)
RECENT_CALLS = 25


MAX_LIMIT = 500
"""Most rows one JSON request returns."""


def _row_id(text: str) -> int | None:
    """A database row id from a URL part: digits only, within SQLite's 64-bit range."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value < 1 << 63 else None


def _limit(text: str | None, *, default: int, most: int) -> int:
    """``?limit=``: a whole number from 1, at most ``most``; 400 for anything else."""
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise web.HTTPBadRequest(text=f"limit must be a whole number from 1 to {most}")
    return min(most, int(text))


def _with_turns(reader: StoreReader, calls: list[CallRecord]) -> list[CallRecord]:
    full = [reader.get_call(c.id) for c in calls]
    return [c for c in full if c is not None]


def _dashboard_data(reader: StoreReader) -> str:
    live = _with_turns(reader, reader.list_calls(live=True))
    recent = _with_turns(reader, reader.list_calls(live=False, limit=RECENT_CALLS))
    return dashboard_html(live, recent, reader.list_voicemails(limit=50), build_report(reader))


async def index(request: web.Request) -> web.Response:
    """The dashboard page."""
    reader = request.app[READER]
    return web.Response(text=await reader.run(_dashboard_data, reader), content_type="text/html")


async def call_page(request: web.Request) -> web.Response:
    """One call with its transcript."""
    reader = request.app[READER]
    call = await reader.run(reader.get_call, request.match_info["call_id"])
    if call is None:
        raise web.HTTPNotFound(text="no such call")
    return web.Response(text=call_html(call), content_type="text/html")


async def voicemail_audio(request: web.Request) -> web.StreamResponse:
    """The voicemail's WAV file (Range requests supported, for the audio player)."""
    reader = request.app[READER]
    vm_id = _row_id(request.match_info["vm_id"])
    if vm_id is None:
        raise web.HTTPNotFound(text="no such voicemail")
    vm = await reader.run(reader.get_voicemail, vm_id)
    if vm is None or vm.path is None or vm.state not in ("stored", "saved", "done"):
        raise web.HTTPNotFound(text="no saved audio for that voicemail")
    path = Path(vm.path)
    if not path.is_file():  # noqa: ASYNC240 - one stat, like FileResponse's own
        raise web.HTTPNotFound(text="the voicemail's audio file is missing")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def api_live(request: web.Request) -> web.Response:
    """Live calls as JSON."""
    reader = request.app[READER]
    calls = await reader.run(lambda: _with_turns(reader, reader.list_calls(live=True)))
    return web.json_response([c.to_json() for c in calls])


async def api_calls(request: web.Request) -> web.Response:
    """Recent calls as JSON (``?limit=``, ``?outcome=``)."""
    reader = request.app[READER]
    limit = _limit(request.query.get("limit"), default=50, most=MAX_LIMIT)
    outcome = request.query.get("outcome")
    calls = await reader.run(reader.list_calls, outcome=outcome, limit=limit)
    return web.json_response([c.to_json() for c in calls])


async def api_voicemails(request: web.Request) -> web.Response:
    """Voicemails as JSON."""
    reader = request.app[READER]
    rows = await reader.run(reader.list_voicemails)
    return web.json_response([v.to_json() for v in rows])


async def api_report(request: web.Request) -> web.Response:
    """The report as JSON."""
    reader = request.app[READER]
    report = await reader.run(build_report, reader)
    return web.json_response(report.to_json())


async def metrics_text(request: web.Request) -> web.Response:
    """Prometheus text exposition of the process-wide registry."""
    return web.Response(
        body=metrics.REGISTRY.render().encode("utf-8"),
        headers={"Content-Type": metrics.CONTENT_TYPE},
    )


def create_app(
    reader: StoreReader, token: str, guard: ConnectionGuard | None = None
) -> web.Application:
    """The dashboard application; every route needs ``token``."""
    first = [guard.middleware()] if guard is not None else []
    app = web.Application(middlewares=[*first, token_middleware(token)])
    app[READER] = reader
    app.router.add_get("/", index)
    app.router.add_get("/calls/{call_id}", call_page)
    app.router.add_get("/voicemails/{vm_id}/audio", voicemail_audio)
    app.router.add_get("/api/live", api_live)
    app.router.add_get("/api/calls", api_calls)
    app.router.add_get("/api/voicemails", api_voicemails)
    app.router.add_get("/api/report", api_report)
    app.router.add_get("/metrics", metrics_text)
    return app


async def start_dashboard(
    reader: StoreReader,
    token: str,
    host: str = "127.0.0.1",
    port: int = 8089,
    *,
    guard: ConnectionGuard | None = None,
) -> web.AppRunner:
    """Serve the dashboard (loopback by default); ``await runner.cleanup()`` stops it.

    Connections are limited and must send their headers in time (:mod:`.guard`).
    """
    guard = guard or ConnectionGuard()
    quiet_accept_errors()
    runner = web.AppRunner(create_app(reader, token, guard), access_log=None, **RUNNER_SETTINGS)
    await runner.setup()
    site = GuardedSite(runner, host, port, guard)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise DashboardError(f"cannot serve the dashboard on {host}:{port}: {exc}") from exc
    log.info("dashboard on http://%s:%d/", host, runner.addresses[0][1])
    return runner
