"""The dashboard against hostile clients over real loopback sockets (issue 14 #7, #15, #20).

Each test fails on 84284e2: idle connections stayed open for an hour with no limit,
non-ASCII bytes in the Authorization header or cookie gave 500 before authentication, a
voicemail id past 64 bits gave 500, and ``/api/calls?limit=-1`` returned every row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from ari_app import counters
from ari_app.store import Store
from ari_app.web.app import start_dashboard
from ari_app.web.guard import ConnectionGuard, quiet_accept_errors

TOKEN = "test-token-0123456789abcdef"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Dashboard:
    url: str
    port: int
    guard: ConnectionGuard


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dashboard]:
    store = Store(tmp_path / "s.sqlite3")
    await store.open()
    for i in range(60):
        at = T0 + timedelta(minutes=i)
        await store.calls.start_call(f"c{i}", "main", "+15550100", "+15550000", at)
        await store.calls.finish_call(f"c{i}", "resolved", ended_at=at + timedelta(seconds=9))
    guard = ConnectionGuard(max_connections=8, header_timeout=0.5)
    runner: web.AppRunner = await start_dashboard(store.reader, TOKEN, port=0, guard=guard)
    port = int(runner.addresses[0][1])
    yield Dashboard(f"http://127.0.0.1:{port}", port, guard)
    await runner.cleanup()
    await store.close()


async def raw(port: int, request: bytes) -> bytes:
    """Send ``request`` bytes as they are; the whole answer (the server closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Bearer \xff\xfe\xfd-not-ascii",
        b"Authorization: Bearer t\xc3\xa9st-token-0123456789ab",
        b"Cookie: ari_app_dashboard=\xff\xfe\x80",
        b'Cookie: ari_app_dashboard="\xed\xa0\x80"; x=\xc0',
    ],
)
async def test_non_ascii_credentials_get_401_not_500(dash: Dashboard, header: bytes) -> None:
    """Fault #15: undecodable bytes in Authorization or the cookie gave HTTP 500."""
    answer = await raw(
        dash.port,
        b"GET /api/calls HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nConnection: close\r\n\r\n",
    )
    assert status(answer) == 401, answer[:200]


@pytest.mark.parametrize("vm_id", [str(1 << 64), str(1 << 63), "9" * 40, "-1", "0", "١٢"])
async def test_voicemail_ids_out_of_range_are_404(dash: Dashboard, vm_id: str) -> None:
    """Fault #15: a voicemail id past 64 bits gave HTTP 500 (SQLite OverflowError)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{dash.url}/voicemails/{vm_id}/audio", headers=headers) as resp,
    ):
        assert resp.status == 404


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("-1", 400), ("0", 400), ("abc", 400), ("1e3", 400), ("9" * 5000, 400), ("2", 200)],
)
async def test_api_calls_limit_is_bounded(dash: Dashboard, limit: str, expected: int) -> None:
    """Fault #20: ``/api/calls?limit=-1`` returned every row."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{dash.url}/api/calls", params={"limit": limit}, headers=headers) as resp,
    ):
        assert resp.status == expected
        if expected == 200:
            assert len(await resp.json()) == 2


async def test_a_huge_limit_is_clamped(dash: Dashboard) -> None:
    """Fault #20: at most 500 rows, whatever the limit asked."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{dash.url}/api/calls?limit=100000", headers=headers) as resp,
    ):
        assert resp.status == 200
        assert len(await resp.json()) == 60


async def test_idle_and_slow_connections_are_closed(dash: Dashboard) -> None:
    """Fault #7: idle unauthenticated connections stayed open (fd exhaustion)."""
    before = counters.DASHBOARD_REJECTED_CONNECTIONS.value(reason="header_timeout")
    idle = await asyncio.open_connection("127.0.0.1", dash.port)
    slow = await asyncio.open_connection("127.0.0.1", dash.port)
    slow[1].write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    async with asyncio.timeout(10):
        assert await idle[0].read() == b""
        assert await slow[0].read() == b""
    for _, writer in (idle, slow):
        writer.close()
    assert counters.DASHBOARD_REJECTED_CONNECTIONS.value(reason="header_timeout") == before + 2


async def test_connections_past_the_limit_are_refused(dash: Dashboard) -> None:
    """Fault #7: no connection limit; the dashboard kept accepting until fds ran out."""
    before = counters.DASHBOARD_REJECTED_CONNECTIONS.value(reason="limit")
    held = [await asyncio.open_connection("127.0.0.1", dash.port) for _ in range(8)]
    extra = await asyncio.open_connection("127.0.0.1", dash.port)
    async with asyncio.timeout(10):
        assert await extra[0].read() == b""
    assert counters.DASHBOARD_REJECTED_CONNECTIONS.value(reason="limit") == before + 1
    assert len(dash.guard.open) == 8
    for _, writer in [*held, extra]:
        writer.close()
        await writer.wait_closed()
    # Once they are gone, a real client gets in again.
    async with asyncio.timeout(10):
        await dash.guard.wait_open_below(1)
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{dash.url}/api/calls?limit=1", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as resp,
    ):
        assert resp.status == 200


def test_accept_errors_are_logged_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """Fault #7: out of file descriptors, asyncio logged every accept retry (10 MB of log)."""
    quiet_accept_errors()
    logger = logging.getLogger("asyncio")
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        for _ in range(100):
            logger.error("socket.accept() out of system resource\nsocket: <socket fd=9>")
        logger.error("Task exception was never retrieved")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("out of system resource" in m for m in messages) <= 1
    assert "Task exception was never retrieved" in messages
