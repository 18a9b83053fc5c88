"""The lab's credentials, rendered by the lab's start script, work against the fake Asterisk.

Chain under test: secrets in the environment (as from .env) -> ``start-asterisk.sh``
renders ari.conf -> the fake Asterisk (``ari_app.testing``) is started with that file's
user and password -> ``ari-app run`` (a real process) with the same environment passes
its ARI start-up check; with another password it prints the one-line 401 error.
The lab dialplan is walked from what the caller dials to the Stasis application and
line the call enters, which must be what config/ names.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/lab/lab_asterisk_conf.py as tests.lab.lab_asterisk_conf
from ari_app.config import load_config  # noqa: E402
from ari_app.testing.fake_asterisk import FakeAsterisk  # noqa: E402
from tests.lab.lab_asterisk_conf import (  # noqa: E402
    Dialplan,
    dialplan_of,
    goto_targets,
    parse_file,
    parse_with_includes,
    split_args,
)

LAB = ROOT / "dialplan" / "lab"
ARI_APP = Path(sys.executable).with_name("ari-app")
SECRETS = {
    "ARI_PASSWORD": "lab-ari-Secret-7",
    "SIP_PASSWORD_100": "caller-pw",
    "SIP_PASSWORD_201": "maya-pw",
    "SIP_PASSWORD_202": "omar-pw",
    "SIP_PASSWORD_301": "lena-pw",
    "VOICEMAIL_PIN": "4821",
}


def render_lab(etc: Path) -> None:
    """Run the lab's start script into ``etc`` with SECRETS, as the container does."""
    env = {**os.environ, **SECRETS}
    env.update(ASTERISK_ETC=str(etc), LAB_FETCH_SOUNDS="no", ASTERISK_ENTRYPOINT="/bin/true")
    subprocess.run(
        ["bash", str(LAB / "start-asterisk.sh")], env=env, check=True, capture_output=True
    )


def ari_user(etc: Path) -> tuple[str, str]:
    """(user, password) of the one ARI user in the rendered ari.conf."""
    users = [s for s in parse_file(etc / "ari.conf").sections if s.get("type") == "user"]
    assert len(users) == 1
    return users[0].name, users[0].get("password") or ""


def stasis_entry(plan: Dialplan, context: str, dialled: str) -> tuple[str, str, str, list[str]]:
    """Follow Goto steps from ``dialled@context`` to the Stasis step it runs.

    Returns (context, extension, application, arguments) of the Stasis step.
    """
    for _ in range(10):
        exten = plan.match(context, dialled)
        assert exten is not None, f"{dialled} has no extension in [{context}]"
        for step in plan.steps_of(context, exten):
            if step.app == "Stasis":
                args = split_args(step.args)
                return context, exten, args[0], args[1:]
            if step.app == "Goto":
                (target,) = goto_targets(step)
                context, dialled = target.context, target.exten
                break
        else:
            raise AssertionError(f"{dialled}@{context} neither enters Stasis nor jumps")
    raise AssertionError("Goto loop in the dialplan")


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    etc = tmp_path / "etc-asterisk"
    render_lab(etc)
    return etc


@pytest.fixture
async def fake(rendered: Path) -> AsyncIterator[FakeAsterisk]:
    username, password = ari_user(rendered)
    pbx = FakeAsterisk(username=username, password=password)
    await pbx.start()
    try:
        yield pbx
    finally:
        await pbx.stop()


def config_for(tmp_path: Path, url: str) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    app: dict[str, Any] = yaml.safe_load((target / "app.yaml").read_text(encoding="utf-8"))
    app["ari"]["url"] = url
    (target / "app.yaml").write_text(yaml.safe_dump(app), encoding="utf-8")
    return target


async def ari_app_run(config: Path, password: str) -> tuple[int, str]:
    env = {**os.environ, "ARI_PASSWORD": password}
    process = await asyncio.create_subprocess_exec(
        str(ARI_APP),
        "run",
        "-c",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, err.decode()


def test_the_caller_dialling_500_enters_the_apps_stasis_application_for_line_main(
    rendered: Path,
) -> None:
    config = load_config(ROOT / "config")
    plan = dialplan_of(parse_with_includes(rendered / "extensions.conf"))
    context, exten, app, args = stasis_entry(plan, "lab-phones", "500")
    assert (context, app, args) == ("ari-app-inbound", config.app.ari.app, ["main"])
    assert exten == config.lines["main"].did


async def test_ari_app_run_passes_its_check_with_the_lab_credentials(
    fake: FakeAsterisk, tmp_path: Path
) -> None:
    env = {**os.environ, "ARI_PASSWORD": SECRETS["ARI_PASSWORD"]}
    process = await asyncio.create_subprocess_exec(
        str(ARI_APP),
        "run",
        "-c",
        str(config_for(tmp_path, fake.url)),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(120):
            first = (await process.stderr.readline()).decode()
    finally:
        # Only the start-up check is under test here; taking calls is tested in
        # test_lab_run_startup.py.
        if process.returncode is None:
            process.kill()
        await process.wait()
    asked = [r for r in fake.request_log if r["path"] == "/ari/asterisk/info"]
    assert len(asked) == 1
    assert first.startswith(f"ari-app run: ARI at {fake.url} accepts user ari_app (Asterisk ")


async def test_ari_app_run_names_url_and_user_when_the_fake_refuses_the_password(
    fake: FakeAsterisk, tmp_path: Path
) -> None:
    status, err = await ari_app_run(config_for(tmp_path, fake.url), "not-the-lab-password")
    assert status == 1
    assert err == f"ari-app run: ARI refused the credentials of user ari_app at {fake.url} (401)\n"
    assert not fake.request_log
