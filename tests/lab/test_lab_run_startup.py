"""``ari-app run`` says in one line why it cannot use ARI, naming the URL and the user.

The command runs as a real process (the installed ``ari-app`` console script) against a
real closed port and against a tiny aiohttp server on loopback that checks basic auth
the way Asterisk does, with the user and password of the lab's ari.conf.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from ari_app.testing import FakeAsterisk
from ari_app.web.auth import DEFAULT_TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/lab/lab_asterisk_conf.py as tests.lab.lab_asterisk_conf
from tests.lab.lab_asterisk_conf import parse_file  # noqa: E402

ARI_APP = Path(sys.executable).with_name("ari-app")
LAB_PASSWORD = "lab-ari-password"


def lab_ari_user() -> tuple[str, str]:
    """(user, password variable) of the lab's ari.conf user section."""
    users = [
        s
        for s in parse_file(ROOT / "dialplan" / "lab" / "ari.conf").sections
        if s.get("type") == "user"
    ]
    assert len(users) == 1
    password = users[0].get("password") or ""
    assert password.startswith("${")
    return users[0].name, password[2:-1]


class AsteriskInfo:
    """``GET /ari/asterisk/info`` with Asterisk's basic-auth check."""

    def __init__(self, username: str, password: str) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.expected = f"Basic {token}"
        self.seen: list[str | None] = []

    async def info(self, request: web.Request) -> web.Response:
        self.seen.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != self.expected:
            return web.json_response({"message": "Authentication required"}, status=401)
        return web.json_response(
            {"system": {"version": "22.10.1", "entity_id": "02:42:ac:11:00:02"}}
        )


@pytest.fixture
async def ari() -> AsyncIterator[tuple[AsteriskInfo, int]]:
    username, _ = lab_ari_user()
    server = AsteriskInfo(username, LAB_PASSWORD)
    app = web.Application()
    app.router.add_get("/ari/asterisk/info", server.info)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield server, int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


def config_dir(tmp_path: Path, port: int) -> Path:
    """A copy of config/ whose ARI URL points at ``port`` on loopback."""
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    app: dict[str, Any] = yaml.safe_load((target / "app.yaml").read_text(encoding="utf-8"))
    app["ari"]["url"] = f"http://127.0.0.1:{port}"
    app["store"] = {
        "path": str(tmp_path / "var" / "calls.sqlite3"),
        "voicemail_dir": str(tmp_path / "var" / "voicemail"),
    }
    (target / "app.yaml").write_text(yaml.safe_dump(app), encoding="utf-8")
    return target


async def ari_app_run(config: Path, password: str | None) -> tuple[int, str, str]:
    """Run ``ari-app run -c CONFIG`` with ``ARI_PASSWORD``; return (status, stdout, stderr)."""
    _, variable = lab_ari_user()
    env = {k: v for k, v in os.environ.items() if k != variable}
    if password is not None:
        env[variable] = password
    process = await asyncio.create_subprocess_exec(
        str(ARI_APP),
        "run",
        "-c",
        str(config),
        "--ari-timeout",
        "5",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_lab_user_is_the_one_the_app_config_names() -> None:
    username, variable = lab_ari_user()
    app = yaml.safe_load((ROOT / "config" / "app.yaml").read_text(encoding="utf-8"))
    assert (username, variable) == (app["ari"]["username"], app["ari"]["password_env"])


async def test_closed_port_gives_one_line_naming_url_and_user(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Closed again: nothing listens there, connecting is refused.
    status, out, err = await ari_app_run(config_dir(tmp_path, port), LAB_PASSWORD)
    assert status == 1
    assert out == ""
    assert err == (
        f"ari-app run: cannot reach ARI at http://127.0.0.1:{port} as ari_app: Connection refused\n"
    )


async def test_wrong_password_gives_one_line_naming_url_and_user(
    ari: tuple[AsteriskInfo, int], tmp_path: Path
) -> None:
    server, port = ari
    status, out, err = await ari_app_run(config_dir(tmp_path, port), "not-the-password")
    assert status == 1
    assert out == ""
    assert err == (
        f"ari-app run: ARI refused the credentials of user ari_app at "
        f"http://127.0.0.1:{port} (401)\n"
    )
    assert len(server.seen) == 1
    assert server.seen[0] is not None
    assert server.seen[0] != server.expected


async def test_run_takes_a_call_placed_in_the_lab_context(tmp_path: Path) -> None:
    """``ari-app run`` with the lab's ari.conf user against the fake Asterisk: a call placed
    into the lab dialplan's inbound context reaches the app and hears the greeting; SIGTERM
    then stops it cleanly."""
    username, variable = lab_ari_user()
    fake = FakeAsterisk(username=username, password=LAB_PASSWORD)
    await fake.start()
    config = config_dir(tmp_path, fake.port)
    env = {**os.environ, variable: LAB_PASSWORD}
    env.pop(DEFAULT_TOKEN_ENV, None)
    process = await asyncio.create_subprocess_exec(
        str(ARI_APP),
        "run",
        "-c",
        str(config),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        lines: list[str] = []
        async with asyncio.timeout(120):
            while not any("taking calls" in line for line in lines):
                raw = await process.stderr.readline()
                assert raw, f"ari-app run stopped early: {lines}"
                lines.append(raw.decode())
        assert lines[0].startswith(
            f"ari-app run: ARI at http://127.0.0.1:{fake.port} accepts user {username}"
        )
        app = yaml.safe_load((config / "app.yaml").read_text())["ari"]["app"]
        dialplan = parse_file(ROOT / "dialplan" / "extensions_ari_app.conf")
        context = "ari-app-inbound"
        assert dialplan.named(context), "the inbound context of the lab dialplan"
        await fake.wait_until(lambda: fake.app_registered(app), 30)
        call = await fake.place_call(did="+16175550142", app=app, args=["main"], context=context)
        await call.wait_heard_speech(500, within=30)
        await call.hangup()
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            status = await process.wait()
        assert status == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.stop()


async def test_missing_password_names_the_variable(tmp_path: Path) -> None:
    status, _, err = await ari_app_run(config_dir(tmp_path, 9), None)
    assert status == 1
    assert err == (
        "ari-app run: the ARI password of user ari_app is not set: "
        "put it in the environment variable ARI_PASSWORD\n"
    )


async def test_silent_port_times_out_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # the kernel accepts the connection; nobody ever answers
        port = sock.getsockname()[1]
        config = config_dir(tmp_path, port)
        _, variable = lab_ari_user()
        env = {**os.environ, variable: LAB_PASSWORD}
        process = await asyncio.create_subprocess_exec(
            str(ARI_APP),
            "run",
            "-c",
            str(config),
            "--ari-timeout",
            "1",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 1
    assert err.decode() == (
        f"ari-app run: cannot reach ARI at http://127.0.0.1:{port} as ari_app: no answer in time\n"
    )


async def test_other_status_is_reported_with_url_and_user(
    ari: tuple[AsteriskInfo, int], tmp_path: Path
) -> None:
    _, port = ari
    config = config_dir(tmp_path, port)
    app = yaml.safe_load((config / "app.yaml").read_text(encoding="utf-8"))
    app["ari"]["url"] = f"http://127.0.0.1:{port}/wrong-prefix"
    (config / "app.yaml").write_text(yaml.safe_dump(app), encoding="utf-8")
    status, _, err = await ari_app_run(config, LAB_PASSWORD)
    assert status == 1
    assert err == (
        f"ari-app run: ARI at http://127.0.0.1:{port}/wrong-prefix answered 404 Not Found "
        "to GET /ari/asterisk/info as ari_app\n"
    )
