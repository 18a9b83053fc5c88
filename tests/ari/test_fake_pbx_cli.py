"""``ari-app fake-pbx`` as a real subprocess: 200 with auth, 401 without, 400 without format;
``--dialplan`` runs inbound calls through the given extensions.conf."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from ari_app.ari.client import basic_auth_header


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_fake_pbx_command_serves_ari(tmp_path: Path) -> None:
    port = _free_port()
    dialplan = tmp_path / "extensions.conf"
    dialplan.write_text(
        "[in]\nexten => 7000,1,Stasis(nobody,x)\n same => n,Goto(out,s,1)\n"
        "[out]\nexten => s,1,Hangup()\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ari_app",
        "fake-pbx",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--user",
        "u1",
        "--password",
        "p1",
        "--dialplan",
        str(dialplan),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            banner = await proc.stdout.readline()
        assert b"fake Asterisk" in banner
        base = f"http://127.0.0.1:{port}/ari"
        auth = {"Authorization": basic_auth_header("u1", "p1")}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/asterisk/info", headers=auth) as resp:
                assert resp.status == 200
                assert (await resp.json())["system"]["version"].startswith("22.")
            async with http.get(f"{base}/asterisk/info") as resp:
                assert resp.status == 401
            async with http.post(
                f"{base}/channels/externalMedia",
                params={"app": "ari_app", "external_host": "127.0.0.1:9999"},
                headers=auth,
            ) as resp:
                assert resp.status == 400
            async with http.post(
                f"http://127.0.0.1:{port}/fake/calls",
                json={"did": "7000", "app": "nobody", "context": "in"},
                headers=auth,
            ) as resp:
                call_id = (await resp.json())["channel"]["id"]
            async with http.get(
                f"http://127.0.0.1:{port}/fake/channels/{call_id}/dialplan", headers=auth
            ) as resp:
                steps = (await resp.json())["steps"]
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            code = await proc.wait()
    assert code == 0
    assert steps[0] == "in,7000,1 Stasis(nobody,x) -> FAILED"
    assert steps[-1] == "out,s,1 Hangup() -> hung up with 603"
