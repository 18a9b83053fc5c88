"""The dashboard over real HTTP on loopback: token, pages, audio, JSON, metrics."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import async_playwright

from ari_app.call.events import AgentSaid
from ari_app.metrics.calls import CallMetrics
from ari_app.store import Store
from ari_app.store.report import EVENT_AGENT_RING
from ari_app.web.app import start_dashboard
from ari_app.web.auth import DashboardError, token_from_env

TOKEN = "test-token-0123456789abcdef"
VOICE = Path("/usr/share/asterisk/sounds/en_US_f_Allison/vm-intro.wav")
VOICE_BYTES = VOICE.read_bytes()
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _copy_voice(vm_dir: Path) -> Path:
    vm_dir.mkdir(parents=True, exist_ok=True)
    path = vm_dir / "000001-vm-c.wav"
    shutil.copyfile(VOICE, path)
    return path


async def seed(store: Store, vm_dir: Path) -> None:
    """Three ended calls, one live call, a knowledge gap and one saved voicemail."""
    c = store.calls

    def at(s: float) -> datetime:
        return T0 + timedelta(seconds=s)

    await c.start_call("call-a", "main", "+15550101", "+15550000", at(0))
    await c.add_turn("call-a", "caller", "what are your opening hours", confidence=0.9, at=at(2))
    await c.add_turn("call-a", "assistant", "We open at 8 on weekdays.", latency_ms=640, at=at(3))
    # The metrics come from the call's events (as in the runtime), not from the store.
    CallMetrics()(
        AgentSaid(
            call_id="call-a",
            at_ms=3000,
            text="We open at 8 on weekdays.",
            action="answer",
            confidence=0.9,
            latency_ms=640,
            interrupted=False,
        )
    )
    await c.finish_call("call-a", "resolved", ended_at=at(20))

    await c.start_call("call-b", "main", "+15550102", "+15550000", at(100))
    await c.add_turn("call-b", "caller", "i want a refund", confidence=0.8, at=at(102))
    await c.note_handoff("call-b", "keyword:refund", at=at(103))
    await c.add_event("call-b", EVENT_AGENT_RING, {"agent": "alice"}, at=at(104))
    await c.finish_call("call-b", "handed_off", agent="alice", ended_at=at(160))

    await c.start_call("call-c", "main", "+15550103", "+15550000", at(200))
    await c.add_turn("call-c", "caller", "do you whiten teeth", confidence=0.7, at=at(202))
    await c.add_knowledge_gap("call-c", "do you whiten teeth", at=at(203))
    await c.note_handoff("call-c", "unanswered", at=at(204))
    await c.finish_call("call-c", "voicemail", ended_at=at(260))

    await c.start_call("call-live", "main", "+15550104", "+15550000", at(300))
    await c.add_turn("call-live", "caller", "hello is anybody there", at=at(301))

    path = await asyncio.to_thread(_copy_voice, vm_dir)
    job = await store.voicemails.create_job(
        "vm-c", call_id="call-c", line="main", caller="+15550103", recorded_at=at(230)
    )
    await store.voicemails.mark_stored(
        job.id,
        path=str(path),
        size_bytes=len(VOICE_BYTES),
        duration_s=45235 / 8000,
        sample_rate=8000,
    )
    await store.voicemails.mark_saved(
        job.id, transcript="please call me back", transcript_error=None
    )
    await store.voicemails.mark_done(job.id)


@pytest.fixture
async def dashboard(tmp_path: Path) -> AsyncIterator[str]:
    store = Store(tmp_path / "s.sqlite3")
    await store.open()
    await seed(store, tmp_path / "vm")
    runner: web.AppRunner = await start_dashboard(store.reader, TOKEN, port=0)
    host, port = runner.addresses[0][:2]
    assert host == "127.0.0.1"
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()
    await store.close()


async def test_everything_needs_the_token(dashboard: str) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/metrics", "/api/calls", "/voicemails/1/audio", "/calls/call-a"):
            async with http.get(dashboard + path) as resp:
                assert resp.status == 401, path
            async with http.get(
                dashboard + path, headers={"Authorization": "Bearer wrong-token-000000000"}
            ) as resp:
                assert resp.status == 401, path


async def test_pages_json_audio_and_metrics(dashboard: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.get(dashboard + "/") as resp:
            assert resp.status == 200
            html = await resp.text()
        for text in (
            "+15550101",
            "We open at 8 on weekdays.",
            "keyword:refund",
            "please call me back",
            "do you whiten teeth",
            "<svg",
        ):
            assert text in html
        async with http.get(dashboard + "/api/live") as resp:
            live = await resp.json()
        assert [c["id"] for c in live] == ["call-live"]
        assert live[0]["turns"][0]["text"] == "hello is anybody there"
        async with http.get(dashboard + "/api/report") as resp:
            report = await resp.json()
        assert report["ended_calls"] == 3
        assert report["outcomes"]["handed_off"] == 1
        assert report["knowledge_gaps"] == [{"question": "do you whiten teeth", "count": 1}]
        async with http.get(dashboard + "/voicemails/1/audio") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "audio/wav"
            assert await resp.read() == VOICE_BYTES
        async with http.get(
            dashboard + "/voicemails/1/audio", headers={"Range": "bytes=0-3"}
        ) as resp:
            assert resp.status == 206
            assert await resp.read() == b"RIFF"
        async with http.get(dashboard + "/voicemails/99/audio") as resp:
            assert resp.status == 404
        async with http.get(dashboard + "/calls/call-b") as resp:
            assert "i want a refund" in await resp.text()
        async with http.get(dashboard + "/metrics") as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await resp.text()
        assert "# TYPE ari_app_calls_total counter" in text
        assert "ari_app_turn_latency_seconds_bucket" in text
        assert "ari_app_ari_reconnects_total" in text
        assert "ari_app_dropped_packets_total" in text


def test_the_token_must_be_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARI_APP_DASHBOARD_TOKEN", raising=False)
    with pytest.raises(DashboardError, match="ARI_APP_DASHBOARD_TOKEN"):
        token_from_env()
    monkeypatch.setenv("ARI_APP_DASHBOARD_TOKEN", TOKEN)
    assert token_from_env() == TOKEN


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.mark.slow
async def test_headless_chromium_sees_calls_and_plays_a_voicemail(dashboard: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page()
            refused = await page.goto(dashboard + "/")
            assert refused is not None
            assert refused.status == 401
            assert "needs its token" in await page.content()

            ok = await page.goto(f"{dashboard}/?token={TOKEN}")
            assert ok is not None
            assert ok.status == 200
            assert "token" not in page.url  # the token moved into an HttpOnly cookie
            calls = page.locator("#calls tr.call")
            assert await calls.count() == 3
            assert await page.locator("#live tbody tr").count() == 1
            await page.locator("tr[data-call-id=call-a] summary").click()
            assert await page.locator("tr[data-call-id=call-a] .transcript").inner_text() == (
                "caller: what are your opening hours (0.90)\nassistant: We open at 8 on weekdays."
            )
            assert await page.locator("#report svg.chart").count() == 2
            assert await page.locator("#ended-calls").inner_text() == "3"

            audio = page.locator("audio[data-voicemail-id]")
            assert await audio.count() == 1
            await page.wait_for_function(
                "() => { const a = document.querySelector('audio');"
                " return a.readyState >= 1 && isFinite(a.duration); }"
            )
            duration = await audio.evaluate("a => a.duration")
            assert duration == pytest.approx(45235 / 8000, abs=0.05)
            await audio.evaluate("a => a.play()")
            await page.wait_for_function("() => document.querySelector('audio').currentTime > 0.2")
            assert await audio.evaluate("a => a.error") is None
        finally:
            await browser.close()
