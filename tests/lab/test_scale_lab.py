"""docker-compose.scale.yml and dialplan/lab/scale/, read and checked (no Docker engine here).

The scaled lab: two Asterisks whose per-call ARI outbound WebSockets go through HAProxy to
three ari-app workers sharing PostgreSQL. These tests read the files as Compose, HAProxy,
Asterisk and ari-app would, and run the scale start script for real (bash, envsubst)
into a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/lab/lab_asterisk_conf.py as tests.lab.lab_asterisk_conf
from ari_app.config.loader import load_config  # noqa: E402
from tests.lab.lab_asterisk_conf import parse_file  # noqa: E402

LAB = ROOT / "dialplan" / "lab"
SCALE = LAB / "scale"
WORKERS = ("worker1", "worker2", "worker3")
ASTERISKS = ("asterisk1", "asterisk2")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z][A-Z0-9_]*)(?P<rest>[^}]*)\}")
SECRETS = {
    "ARI_PASSWORD": "ari-Secret.1",
    "ARI_OUTBOUND_PASSWORD": "out-Secret.2",
    "SIP_PASSWORD_100": "pw100",
    "SIP_PASSWORD_201": "pw201",
    "SIP_PASSWORD_202": "pw202",
    "SIP_PASSWORD_301": "pw301",
    "VOICEMAIL_PIN": "4821",
    "ASTERISK_SYSTEM_NAME": "ast2",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.scale.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def test_two_asterisks_a_balancer_three_workers_and_postgres(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert set(services) == {*ASTERISKS, "lb", "postgres", *WORKERS}
    lab = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for name in ASTERISKS:  # the lab's pinned image, started through the scale script
        assert services[name]["image"] == lab["services"]["asterisk"]["image"]
        assert (
            services[name]["entrypoint"][-1] == "/opt/ari-app/dialplan/lab/scale/start-asterisk.sh"
        )
        assert "./dialplan:/opt/ari-app/dialplan:ro" in services[name]["volumes"]
    names = {services[a]["environment"]["ASTERISK_SYSTEM_NAME"] for a in ASTERISKS}
    assert len(names) == 2, "each Asterisk its own systemname: channel ids never clash"
    assert services["lb"]["image"].startswith("haproxy:2.6")
    assert services["postgres"]["image"].startswith("postgres:")


def test_secrets_come_from_env_and_every_port_is_on_loopback(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        for key, value in service.get("environment", {}).items():
            if key in ("ASTERISK_SYSTEM_NAME", "POSTGRES_USER", "POSTGRES_DB"):
                continue  # names, not secrets
            match = INTERPOLATION.fullmatch(str(value))
            assert match, f"{name}: {key} must come from .env"
            assert match["rest"].startswith(":?"), f"{name}: {key} is required"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for key in ("ARI_OUTBOUND_PASSWORD", "POSTGRES_PASSWORD"):
        assert re.search(rf"^{key}=change-me", env_example, re.MULTILINE)


def test_each_worker_mounts_its_own_app_yaml_over_the_shared_config(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)
    for name in WORKERS:
        worker = services[name]
        assert worker["command"][:3] == ["ari-app", "-v", "run"]
        assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert worker["depends_on"]["asterisk1"]["condition"] == "service_healthy"
        assert worker["healthcheck"]["test"][:3] == ["CMD", "ari-app", "health"]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in worker["volumes"]}
        assert mounts["/app/config"] == "./config"
        source = mounts["/app/config/app.yaml"]
        assert source == f"./dialplan/lab/scale/{name}.app.yaml"
        assert (ROOT / source).is_file()
        assert mounts["/app/var/voicemail"] == "voicemail", "one voicemail folder for all"
        env = worker["environment"]
        assert set(env) == {"ARI_OUTBOUND_PASSWORD", "ARI_PASSWORD", "ARI_APP_STORE_PASSWORD"}


@pytest.mark.parametrize("worker", WORKERS)
def test_worker_config_loads_in_outbound_mode_on_the_shared_store(
    worker: str, tmp_path: Path
) -> None:
    """config/ with the worker's app.yaml, read by the app's own loader."""
    config_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", config_dir)
    shutil.copy(SCALE / f"{worker}.app.yaml", config_dir / "app.yaml")
    app = load_config(config_dir).app
    assert app.ari.mode == "outbound"
    assert (app.ari.outbound.host, app.ari.outbound.port) == ("0.0.0.0", 8765)
    assert app.media.transport == "rtp"
    assert app.media.advertise_host == worker, "Asterisk sends this worker's RTP to it"
    assert app.store.url == "postgresql://ari_app@postgres:5432/ari_app"
    assert app.store.worker_id == worker
    websocket = parse_file(SCALE / "websocket_client.conf").named("ari-app-pool")[0]
    assert app.ari.outbound.username == websocket.get("username")
    assert app.ari.outbound.password_env == "ARI_OUTBOUND_PASSWORD"
    # Each Asterisk's HTTP ARI, by the systemname compose gives it: a voicemail's audio is
    # fetched from (and deleted on) the Asterisk that recorded it.
    compose = yaml.safe_load((ROOT / "docker-compose.scale.yml").read_text(encoding="utf-8"))
    names = {compose["services"][a]["environment"]["ASTERISK_SYSTEM_NAME"]: a for a in ASTERISKS}
    assert app.ari.outbound.asterisks == {
        name: f"http://{service}:8088" for name, service in names.items()
    }


def test_asterisk_connects_per_call_to_the_balancer_as_asterisk_22_wants() -> None:
    ari = parse_file(SCALE / "ari.conf")
    (outbound,) = ari.named("ari-app-pool")
    assert outbound.get("type") == "outbound_websocket"
    assert outbound.get("apps") == "ari-app"
    (user,) = ari.named(outbound.get("local_ari_user") or "")
    assert user.get("type") == "user"
    assert user.get("read_only") == "no", "the workers' REST requests change things"
    (client,) = parse_file(SCALE / "websocket_client.conf").named(
        outbound.get("websocket_client_id") or ""
    )
    assert client.get("type") == "websocket_client"
    assert client.get("connection_type") == "per_call_config"
    assert client.get("protocols") == "ari"
    assert client.get("uri") == "ws://lb:8765/"
    assert client.get("password") == "${ARI_OUTBOUND_PASSWORD}"
    for number in ("connection_timeout", "reconnect_interval", "reconnect_attempts"):
        assert int(client.get(number) or "0") > 0
    assert parse_file(SCALE / "asterisk.conf").named("options")[0].get("systemname") == (
        "${ASTERISK_SYSTEM_NAME}"
    )
    assert parse_file(SCALE / "http.conf").named("general")[0].get("bindaddr") == "0.0.0.0"
    modules = (LAB / "modules.conf").read_text(encoding="utf-8")
    assert re.search(r"^load = res_websocket_client\.so$", modules, re.MULTILINE)


def test_haproxy_passes_websockets_to_the_three_workers() -> None:
    text = (SCALE / "haproxy.cfg").read_text(encoding="utf-8")
    assert re.search(r"^\s*mode http$", text, re.MULTILINE)
    assert re.search(r"^\s*timeout tunnel ", text, re.MULTILINE)
    assert re.search(r"^\s*option redispatch", text, re.MULTILINE)
    assert re.search(r"^\s*bind :8765$", text, re.MULTILINE)
    servers = re.findall(r"^\s*server (\S+) (\S+):(\d+) check", text, re.MULTILINE)
    assert [(s, h, int(p)) for s, h, p in servers] == [(w, w, 8765) for w in WORKERS]


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed")
def test_haproxy_accepts_the_file(tmp_path: Path) -> None:
    """``haproxy -c`` with the compose names resolvable (here: all loopback)."""
    text = (SCALE / "haproxy.cfg").read_text(encoding="utf-8")
    for worker in WORKERS:
        text = text.replace(f" {worker}:8765", " 127.0.0.1:8765")
    text = re.sub(r"resolvers docker init-addr \S+", "", text)
    text = re.sub(r"(?ms)^resolvers docker.*", "", text)
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _run_scale_script(etc: Path, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(SECRETS)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.update(ASTERISK_ETC=str(etc), LAB_FETCH_SOUNDS="no", ASTERISK_ENTRYPOINT="/bin/echo")
    return subprocess.run(
        ["bash", str(SCALE / "start-asterisk.sh"), "asterisk", "-f"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(not shutil.which("envsubst"), reason="envsubst (gettext-base) is missing")
def test_start_script_renders_the_lab_then_the_scale_files(tmp_path: Path) -> None:
    result = _run_scale_script(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "asterisk -f"  # the image's entrypoint, once
    written = {p.name for p in tmp_path.iterdir()}
    lab = {p.name for p in LAB.glob("*.conf")} | {"extensions_ari_app.conf"}
    assert written == lab | {p.name for p in SCALE.glob("*.conf")}
    (outbound,) = parse_file(tmp_path / "ari.conf").named("ari-app-pool")
    assert outbound.get("type") == "outbound_websocket"
    (client,) = parse_file(tmp_path / "websocket_client.conf").named("ari-app-pool")
    assert client.get("password") == SECRETS["ARI_OUTBOUND_PASSWORD"]
    (options,) = parse_file(tmp_path / "asterisk.conf").named("options")
    assert options.get("systemname") == "ast2"
    (user,) = parse_file(tmp_path / "ari.conf").named("ari_app")
    assert user.get("password") == SECRETS["ARI_PASSWORD"]


@pytest.mark.skipif(not shutil.which("envsubst"), reason="envsubst (gettext-base) is missing")
def test_start_script_refuses_a_missing_or_example_outbound_password(tmp_path: Path) -> None:
    missing = _run_scale_script(tmp_path, ARI_OUTBOUND_PASSWORD=None)
    assert missing.returncode == 64
    assert "ARI_OUTBOUND_PASSWORD is not set" in missing.stderr
    example = _run_scale_script(tmp_path, ARI_OUTBOUND_PASSWORD="change-me-outbound")
    assert example.returncode == 64
    assert not list(tmp_path.iterdir())
