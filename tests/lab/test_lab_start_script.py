"""dialplan/lab/start-asterisk.sh renders the lab's configuration with the secrets from .env.

The script runs for real under bash with envsubst, writing into a temporary folder
instead of /etc/asterisk and handing over to ``echo`` instead of the image's entrypoint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/lab/lab_asterisk_conf.py as tests.lab.lab_asterisk_conf
from tests.lab.lab_asterisk_conf import dialplan_of, parse_file, parse_with_includes  # noqa: E402

LAB = ROOT / "dialplan" / "lab"
SCRIPT = LAB / "start-asterisk.sh"

SECRETS = {
    "ARI_PASSWORD": "ari-Secret.1/x=",
    "SIP_PASSWORD_100": "caller-pw-100",
    "SIP_PASSWORD_201": "maya-pw-201",
    "SIP_PASSWORD_202": "omar-pw-202",
    "SIP_PASSWORD_301": "lena-pw-301",
    "VOICEMAIL_PIN": "4821",
}


def test_envsubst_is_installed() -> None:
    # The lab image ships gettext-base; scripts/bootstrap.sh installs it for the tests.
    assert shutil.which("envsubst"), "install gettext-base (bash scripts/bootstrap.sh test)"


def run_script(etc: Path, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    """Run the start script with the test secrets, changed by ``overrides`` (None unsets)."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(SECRETS)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.update(
        ASTERISK_ETC=str(etc),
        LAB_FETCH_SOUNDS="no",
        ASTERISK_ENTRYPOINT="/bin/echo",
    )
    return subprocess.run(
        ["bash", str(SCRIPT), "asterisk", "-f", "-U", "asterisk"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_renders_every_file_and_hands_over_the_command_line(tmp_path: Path) -> None:
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "asterisk -f -U asterisk"
    written = {p.name for p in tmp_path.iterdir()}
    expected = {p.name for p in LAB.glob("*.conf")} | {"extensions_ari_app.conf"}
    assert written == expected
    for path in tmp_path.iterdir():
        assert not {"${" + name + "}" for name in SECRETS} & set(path.read_text().split())


def test_secrets_land_where_asterisk_reads_them(tmp_path: Path) -> None:
    assert run_script(tmp_path).returncode == 0
    (user,) = parse_file(tmp_path / "ari.conf").named("ari_app")
    assert user.get("password") == SECRETS["ARI_PASSWORD"]
    pjsip = parse_file(tmp_path / "pjsip.conf")
    auths = {
        s.name: s.get("password")
        for s in pjsip.sections
        if not s.is_template and pjsip.resolved(s)["type"] == ["auth"]
    }
    assert auths == {n: SECRETS[f"SIP_PASSWORD_{n}"] for n in ["100", "201", "202", "301"]}
    (boxes,) = parse_file(tmp_path / "voicemail.conf").named("ari-app")
    assert {item.value.split(",")[0] for item in boxes.items} == {SECRETS["VOICEMAIL_PIN"]}


def test_dialplan_variables_are_left_alone(tmp_path: Path) -> None:
    assert run_script(tmp_path).returncode == 0
    text = (tmp_path / "extensions_ari_app.conf").read_text()
    assert '"${STASISSTATUS}" = "FAILED"' in text
    assert "${DIALSTATUS}" in text
    assert "${EXTEN}" in (tmp_path / "extensions.conf").read_text()
    # The rendered folder is a complete dialplan: the include resolves inside it.
    plan = dialplan_of(parse_with_includes(tmp_path / "extensions.conf"))
    assert "ari-app-inbound" in plan.contexts


def test_rendered_files_are_not_world_readable(tmp_path: Path) -> None:
    assert run_script(tmp_path).returncode == 0
    assert (tmp_path / "ari.conf").stat().st_mode & 0o007 == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ARI_PASSWORD", None, "ARI_PASSWORD is not set"),
        ("SIP_PASSWORD_201", "", "SIP_PASSWORD_201 is not set"),
        ("SIP_PASSWORD_100", "change-me-100", "SIP_PASSWORD_100 still has the example value"),
        ("ARI_PASSWORD", "abc;def", "ARI_PASSWORD may hold only"),
        ("VOICEMAIL_PIN", "12ab", "VOICEMAIL_PIN must be digits only"),
    ],
)
def test_refuses_to_start_with_a_bad_secret(
    tmp_path: Path, name: str, value: str | None, message: str
) -> None:
    result = run_script(tmp_path, **{name: value})
    assert result.returncode == 64
    assert message in result.stderr
    assert not list(tmp_path.iterdir()), "nothing may be written when a secret is bad"
    assert "asterisk -f" not in result.stdout
