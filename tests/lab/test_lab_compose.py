"""docker-compose.yml, Dockerfile, .env.example and .dockerignore of the lab, read and checked.

No Docker engine runs here: these tests read the files the way Compose and Docker would
and check what can go wrong without running them (secrets, exposed ports, paths, order).
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/lab/lab_asterisk_conf.py as tests.lab.lab_asterisk_conf
from ari_app.config import Config, load_config  # noqa: E402
from tests.lab.lab_asterisk_conf import parse_file  # noqa: E402

LAB = ROOT / "dialplan" / "lab"
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z][A-Z0-9_]*)(?P<rest>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: {raw!r} is not KEY=value"
            values[key] = value
    return values


@pytest.fixture(scope="module")
def config() -> Config:
    """config/ read by the app's own loader."""
    return load_config(ROOT / "config")


def start_script_secrets() -> set[str]:
    script = (LAB / "start-asterisk.sh").read_text(encoding="utf-8")
    match = re.search(r"^secrets=\(([^)]*)\)$", script, re.MULTILINE)
    assert match
    return set(match[1].split())


def test_services_and_pinned_asterisk_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"asterisk", "app"}
    image = services["asterisk"]["image"]
    name, _, tag = image.partition(":")
    assert name == "andrius/asterisk"
    # A release tag (22.x.y), never a moving one such as latest, stable or 22.
    assert re.fullmatch(r"2[02]\.\d+\.\d+_debian-[a-z]+", tag), image
    assert services["app"]["build"] == "."


def test_every_published_port_is_on_loopback(compose: dict[str, Any]) -> None:
    published = 0
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: write ports as HOST_IP:HOST:CONTAINER"
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is not on loopback"
            published += 1
    assert published >= 2


def test_asterisk_publishes_sip_and_exactly_its_rtp_range(compose: dict[str, Any]) -> None:
    (general,) = parse_file(LAB / "rtp.conf").named("general")
    rtp = f"{general.get('rtpstart')}-{general.get('rtpend')}"
    ports = compose["services"]["asterisk"]["ports"]
    assert "127.0.0.1:5060:5060/udp" in ports
    assert f"127.0.0.1:{rtp}:{rtp}/udp" in ports
    (transport,) = parse_file(LAB / "pjsip.conf").named("transport-udp")
    assert transport.get("bind") == "0.0.0.0:5060"


def test_no_secret_is_written_in_the_compose_file(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for value in env_example.values():
        assert not value or value not in text
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: environment as a mapping"
        for key, value in environment.items():
            match = INTERPOLATION.fullmatch(str(value))
            assert match, f"{name}: {key} must come from .env as ${{{key}...}}"
            assert match["name"] == key
            # Required (:?message), or optional with an empty default (:-): never a value.
            assert match["rest"].startswith(":?") or match["rest"] == ":-", (
                f"{name}: {key} must be required (:?) or default to empty (:-)"
            )


def test_secrets_agree_across_env_example_compose_and_start_script(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    secrets = start_script_secrets()
    app_only = {"ARI_APP_DASHBOARD_TOKEN"}
    scale_only = {"ARI_OUTBOUND_PASSWORD", "POSTGRES_PASSWORD"}  # docker-compose.scale.yml
    assert set(env_example) == secrets | app_only | scale_only
    assert set(compose["services"]["asterisk"]["environment"]) == secrets
    assert set(compose["services"]["app"]["environment"]) == {"ARI_PASSWORD"} | app_only
    for key in secrets:
        assert env_example[key].startswith("change-me"), "example values are refused at start"
    assert env_example["ARI_APP_DASHBOARD_TOKEN"] == "", "the dashboard is off by default"


def test_env_file_is_ignored_by_git_and_docker() -> None:
    for ignore in [".gitignore", ".dockerignore"]:
        lines = (ROOT / ignore).read_text(encoding="utf-8").split()
        assert ".env" in lines, f"{ignore} must list .env"


def test_healthchecks_and_start_order(compose: dict[str, Any], config: Config) -> None:
    asterisk = compose["services"]["asterisk"]
    app = compose["services"]["app"]
    test = " ".join(asterisk["healthcheck"]["test"])
    ari = config.app.ari
    url = ari.url.rstrip("/")
    assert f"{url}/ari/asterisk/info" in test
    # $$ so Compose leaves the variable to the container's shell: no secret in the file.
    assert f"{ari.username}:$${{{ari.password_env}}}" in test
    assert app["depends_on"]["asterisk"]["condition"] == "service_healthy"
    # The app's own liveness (its heartbeat), not Asterisk's list of applications, which
    # keeps a dead app listed while it has channels.
    assert app["healthcheck"]["test"][:3] == ["CMD", "ari-app", "health"]
    command = app["command"]
    assert "run" in command
    volume = next(v for v in app["volumes"] if v.endswith(":/app/var"))
    assert volume
    assert app["healthcheck"]["test"][3:] == ["--file", "/app/var/health.json"]


def test_app_shares_asterisks_network_so_the_loopback_settings_hold(
    compose: dict[str, Any], config: Config
) -> None:
    app = compose["services"]["app"]
    assert app["network_mode"] == "service:asterisk"
    assert "ports" not in app
    assert config.app.ari.url.startswith("http://127.0.0.1:")
    assert config.app.media.advertise_host == "127.0.0.1"


def test_app_runs_ari_app_run_on_the_mounted_config(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    command = app["command"]
    assert command[0] == "ari-app"
    assert command[command.index("run") :][:3] == ["run", "-c", "config"]
    assert "./config:/app/config:ro" in app["volumes"]


def test_dashboard_is_reachable_through_the_shared_namespace(compose: dict[str, Any]) -> None:
    # Parsed by ari-app's own argument parser, so a renamed option fails here.
    from ari_app.cli import build_parser  # noqa: PLC0415

    command = compose["services"]["app"]["command"]
    args = build_parser().parse_args(command[command.index("run") :])
    assert args.dashboard_host == "0.0.0.0"
    published = f"127.0.0.1:{args.dashboard_port}:{args.dashboard_port}/tcp"
    assert published in compose["services"]["asterisk"]["ports"]


def test_asterisk_mounts_start_from_files_that_exist(compose: dict[str, Any]) -> None:
    asterisk = compose["services"]["asterisk"]
    mounts = {}
    for volume in asterisk["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = source
        if source.startswith("./"):
            assert (ROOT / source).exists(), f"{source} does not exist"
    entry = asterisk["entrypoint"]
    assert entry[0] == "/bin/bash"
    folder = mounts["/opt/ari-app/dialplan"]
    relative = Path(entry[1]).relative_to("/opt/ari-app/dialplan")
    assert (ROOT / folder / relative) == LAB / "start-asterisk.sh"
    # The image's CMD is dropped when entrypoint is set: the command must start Asterisk.
    assert asterisk["command"][0] == "/usr/sbin/asterisk"
    assert "-f" in asterisk["command"]


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (no ! rules used)."""
    parts = path.split("/")
    for pattern in patterns:
        for depth in range(1, len(parts) + 1):
            if fnmatch.fnmatch("/".join(parts[:depth]), pattern.removeprefix("**/")):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatch(parts[depth - 1], pattern[3:]):
                return True
    return False


def test_dockerfile_builds_from_files_in_the_context() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert froms[-1] == "python:3.11-slim-bookworm"
    patterns = dockerignore_patterns()
    assert not any(p.startswith("!") for p in patterns)
    for args in re.findall(r"^COPY (?!--from)(.+)$", text, re.MULTILINE):
        for source in args.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    assert ignored(".env", patterns)
    assert ignored(".venv/bin/python", patterns)
    assert ignored("ari_app/__pycache__/x.pyc", patterns)


def test_dockerfile_installs_cpu_torch_before_the_project_and_the_vosk_model(
    config: Config,
) -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    torch = text.index("https://download.pytorch.org/whl/cpu")
    project = text.index("pip install .")
    assert torch < project
    assert re.search(r"apt-get install[^\n]*espeak-ng libespeak-ng1", text)
    assert "vosk-model-small-en-us-0.15" in text
    assert "https://alphacephei.com/vosk/models/" in text
    model = config.app.speech.vosk_model
    assert f"COPY --from=vosk-model {model} {model}" in text
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE)
    assert 'CMD ["ari-app", "run", "-c", "config"]' in text
