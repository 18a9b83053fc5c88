"""dialplan/lab/app_healthcheck.py against a real HTTP server on loopback.

The server answers ``GET /ari/applications/{app}`` the way Asterisk does: 401 without
the right basic-auth credentials, 200 with the application while it is registered,
404 once it is gone.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "dialplan" / "lab" / "app_healthcheck.py"
PASSWORD = "lab-secret"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("app_healthcheck", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = load_script()


class FakeAri:
    """The one ARI route the health check asks, with Asterisk's status codes."""

    def __init__(self) -> None:
        self.registered: set[str] = set()
        self.requests: list[str] = []

    async def application(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        expected = base64.b64encode(f"ari_app:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"message": "Authentication required"}, status=401)
        name = request.match_info["name"]
        if name not in self.registered:
            return web.json_response({"message": "Application not found"}, status=404)
        return web.json_response({"name": name, "channel_ids": [], "bridge_ids": []})


@pytest.fixture
async def ari() -> AsyncIterator[tuple[FakeAri, int]]:
    fake = FakeAri()
    app = web.Application()
    app.router.add_get("/ari/applications/{name}", fake.application)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield fake, port
    finally:
        await runner.cleanup()


def write_config(folder: Path, port: int) -> Path:
    (folder / "app.yaml").write_text(
        f"ari:\n  url: http://127.0.0.1:{port}\n  username: ari_app\n"
        "  password_env: LAB_TEST_ARI_PASSWORD\n  app: ari-app\n",
        encoding="utf-8",
    )
    return folder


async def test_healthy_only_while_the_app_is_registered(
    ari: tuple[FakeAri, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, port = ari
    config = write_config(tmp_path, port)
    monkeypatch.setenv("LAB_TEST_ARI_PASSWORD", PASSWORD)
    healthy, reason = await asyncio.to_thread(healthcheck.check, config)
    assert (healthy, reason) == (
        False,
        f"Stasis application ari-app is not registered at http://127.0.0.1:{port}",
    )
    fake.registered.add("ari-app")
    healthy, reason = await asyncio.to_thread(healthcheck.check, config)
    assert healthy, reason
    assert fake.requests == ["/ari/applications/ari-app"] * 2


async def test_wrong_password_is_reported_as_refused_credentials(
    ari: tuple[FakeAri, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, port = ari
    fake.registered.add("ari-app")
    monkeypatch.setenv("LAB_TEST_ARI_PASSWORD", "wrong")
    healthy, reason = await asyncio.to_thread(healthcheck.check, write_config(tmp_path, port))
    assert not healthy
    assert reason == f"ARI refused the credentials of user ari_app at http://127.0.0.1:{port} (401)"


async def test_closed_port_is_reported_as_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The socket is closed again: nothing listens on that port now.
    monkeypatch.setenv("LAB_TEST_ARI_PASSWORD", PASSWORD)
    argv = ["app_healthcheck.py", str(write_config(tmp_path, port))]
    status = await asyncio.to_thread(healthcheck.main, argv)
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith(f"app_healthcheck: cannot reach ARI at http://127.0.0.1:{port}: ")
    assert err.count("\n") == 1
