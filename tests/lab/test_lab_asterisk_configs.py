"""The Asterisk files in dialplan/ agree with each other and with config/*.yaml."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/lab/lab_asterisk_conf.py as tests.lab.lab_asterisk_conf
from ari_app.config import Config, load_config  # noqa: E402
from tests.lab.lab_asterisk_conf import (  # noqa: E402
    ConfError,
    ConfFile,
    Dialplan,
    dialplan_of,
    goto_targets,
    parse_file,
    parse_text,
    parse_with_includes,
    split_args,
)

DIALPLAN = ROOT / "dialplan"
LAB = DIALPLAN / "lab"
CONFIG = ROOT / "config"
SNIPPET = DIALPLAN / "extensions_ari_app.conf"
FREEPBX = DIALPLAN / "extensions_custom.conf"
# Contexts FreePBX generates itself; the FreePBX snippet may send calls there.
FREEPBX_CONTEXTS = {"ext-local", "from-internal", "ext-group", "from-did-direct"}
SECRET = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@pytest.fixture(scope="module")
def config() -> Config:
    """config/ read by the app's own loader (validated: a bad file fails here)."""
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def lab_dialplan() -> Dialplan:
    return dialplan_of(parse_with_includes(LAB / "extensions.conf"))


@pytest.fixture(scope="module")
def freepbx_dialplan() -> Dialplan:
    return dialplan_of([parse_file(FREEPBX)])


def conf(name: str) -> ConfFile:
    return parse_file(LAB / name)


def endpoints_of(target: str, config: Config, seen: set[str] | None = None) -> list[str]:
    """The endpoints a routing target (user or team) rings, team fallbacks excluded."""
    if target in config.users:
        return [config.users[target].endpoint]
    seen = seen or set()
    assert target not in seen, f"team {target} includes itself"
    seen.add(target)
    found: list[str] = []
    for member in config.teams[target].members:
        found += endpoints_of(member, config, seen)
    return found


# --- the reader itself ------------------------------------------------------------------


def test_reader_rejects_a_malformed_line() -> None:
    with pytest.raises(ConfError, match=r"x\.conf:3"):
        parse_text("[a]\nkey = 1\nthis is not a line\n", Path("x.conf"))


def test_reader_keeps_escaped_semicolons_and_drops_comments() -> None:
    parsed = parse_text("[a] ; c\npassword = se\\;cret ; comment\n;-- block\n--;\n", Path("y"))
    assert parsed.sections[0].get("password") == "se;cret"


@pytest.mark.parametrize(
    "path", sorted([*DIALPLAN.glob("*.conf"), *LAB.glob("*.conf")]), ids=lambda p: p.name
)
def test_every_conf_file_parses(path: Path) -> None:
    parsed = parse_file(path)
    assert parsed.sections, f"{path} has no section"


def test_lab_has_every_file_the_issue_names() -> None:
    names = {p.name for p in LAB.glob("*.conf")}
    expected = {"http.conf", "ari.conf", "pjsip.conf", "extensions.conf", "modules.conf"}
    assert expected | {"rtp.conf", "voicemail.conf"} <= names


# --- dialplan references ------------------------------------------------------------------


def check_references(plan: Dialplan, external: set[str]) -> list[str]:
    """Every Goto/GotoIf/include target that does not exist, as readable problems."""
    problems: list[str] = []
    for context, included in plan.includes.items():
        problems += [
            f"[{context}] includes missing {name}"
            for name in included
            if name not in plan.contexts | external
        ]
    for step in plan.steps:
        for target in goto_targets(step):
            if target.context in external:
                continue
            if target.context not in plan.contexts:
                problems.append(f"{step.where()}: context {target.context} does not exist")
                continue
            if "${" in target.exten:
                continue
            exten = plan.match(target.context, target.exten)
            if exten is None:
                problems.append(f"{step.where()}: {target.exten} not in [{target.context}]")
                continue
            steps = plan.steps_of(target.context, exten)
            if target.priority.isdigit():
                ok = any(s.priority == int(target.priority) for s in steps)
            else:
                ok = any(s.label == target.priority for s in steps)
            if not ok:
                problems.append(
                    f"{step.where()}: no priority {target.priority} at "
                    f"{target.exten}@{target.context}"
                )
    return problems


def test_every_lab_dialplan_reference_exists(lab_dialplan: Dialplan) -> None:
    assert lab_dialplan.steps
    assert check_references(lab_dialplan, external=set()) == []


def test_every_freepbx_reference_exists_or_is_freepbx_own(freepbx_dialplan: Dialplan) -> None:
    assert check_references(freepbx_dialplan, external=FREEPBX_CONTEXTS) == []


def test_reference_check_finds_a_missing_context() -> None:
    broken = parse_text("[a]\nexten => s,1,Goto(nowhere,s,1)\n", Path("b.conf"))
    assert check_references(dialplan_of([broken]), external=set()) == [
        "b.conf:2: context nowhere does not exist"
    ]


def test_every_pjsip_context_exists_in_the_lab_dialplan(lab_dialplan: Dialplan) -> None:
    pjsip = conf("pjsip.conf")
    contexts = [
        value
        for section in pjsip.sections
        for value in pjsip.resolved(section).get("context", [])
        if not section.is_template
    ]
    assert contexts
    assert set(contexts) <= lab_dialplan.contexts


# --- the Stasis entry and its fallback ------------------------------------------------------


def stasis_steps(plan: Dialplan) -> list[tuple[str, str, str]]:
    """(context, app name, line) of every Stasis step."""
    found = []
    for step in plan.steps:
        if step.app == "Stasis":
            args = split_args(step.args)
            found.append((step.context, args[0], args[1] if len(args) > 1 else ""))
    return found


@pytest.mark.parametrize("path", [SNIPPET, FREEPBX], ids=lambda p: p.name)
def test_stasis_app_name_and_lines_match_the_app_config(path: Path, config: Config) -> None:
    found = stasis_steps(dialplan_of([parse_file(path)]))
    assert found
    assert {app for _, app, _ in found} == {config.app.ari.app}
    assert {line for _, _, line in found} == set(config.lines)


def fallback_of(plan: Dialplan, context: str, exten: str) -> tuple[str, str]:
    """Follow a Stasis extension to its fallback; return the fallback's (context, exten)."""
    steps = plan.steps_of(context, exten)
    kinds = [s.app for s in steps]
    assert "Stasis" in kinds, f"{exten}@{context} does not enter Stasis"
    after = steps[kinds.index("Stasis") + 1]
    assert after.app == "GotoIf", f"{after.where()}: no STASISSTATUS check right after Stasis"
    condition = after.args.rpartition("?")[0]
    assert "${STASISSTATUS}" in condition
    assert '"FAILED"' in condition
    (target,) = goto_targets(after)
    assert target.context != context
    return target.context, target.exten


def dial_and_voicemail(plan: Dialplan, context: str, exten: str) -> tuple[list[str], str]:
    """The endpoints the fallback dials and what it does when nobody answers."""
    steps = plan.steps_of(context, exten)
    dials = [s for s in steps if s.app == "Dial"]
    assert len(dials) == 1, f"{exten}@{context}: expected one Dial"
    dialled = split_args(dials[0].args)[0].split("&")
    after = steps[steps.index(dials[0]) + 1 :]
    assert after[0].app == "GotoIf"
    assert "${DIALSTATUS}" in after[0].args
    return dialled, after[1].app + "(" + after[1].args + ")"


def test_each_line_enters_stasis_then_falls_back_to_its_people_and_voicemail(
    lab_dialplan: Dialplan, config: Config
) -> None:
    voicemail = conf("voicemail.conf")
    for name, line in config.lines.items():
        assert line.did, f"line {name} has no DID"
        did = line.did
        exten = lab_dialplan.match("ari-app-inbound", did)
        assert exten == did, f"line {name}: DID {did} has no extension in [ari-app-inbound]"
        steps = lab_dialplan.steps_of("ari-app-inbound", exten)
        stasis = next(s for s in steps if s.app == "Stasis")
        assert split_args(stasis.args)[1] == name
        context, fb_exten = fallback_of(lab_dialplan, "ari-app-inbound", exten)
        dialled, then = dial_and_voicemail(lab_dialplan, context, fb_exten)
        wanted: list[str] = []
        for target in line.routing.targets:
            wanted += endpoints_of(target, config)
        assert dialled == wanted, f"line {name}: fallback rings {dialled}, routing says {wanted}"
        match = re.fullmatch(r"VoiceMail\((?P<box>[^@,]+)@(?P<ctx>[^,]+)(?:,.*)?\)", then)
        assert match, f"line {name}: an unanswered fallback must go to VoiceMail, not {then}"
        boxes = {item.key for s in voicemail.named(match["ctx"]) for item in s.items}
        assert match["box"] in boxes, f"mailbox {match['box']}@{match['ctx']} not in voicemail.conf"


def test_trunk_number_variants_reach_the_same_line(lab_dialplan: Dialplan) -> None:
    for dialled in ["16175550142", "6175550142"]:
        (target,) = goto_targets(lab_dialplan.steps_of("ari-app-inbound", dialled)[0])
        assert (target.context, target.exten) == ("ari-app-inbound", "+16175550142")


def test_freepbx_fallback_rings_the_same_people_then_freepbx_voicemail(
    freepbx_dialplan: Dialplan, config: Config
) -> None:
    for name, line in config.lines.items():
        context, exten = fallback_of(freepbx_dialplan, "ari-app-custom", name)
        dialled, then = dial_and_voicemail(freepbx_dialplan, context, exten)
        wanted: list[str] = []
        for target in line.routing.targets:
            wanted += endpoints_of(target, config)
        assert dialled == wanted
        assert re.fullmatch(r"Goto\(ext-local,vmu\d+,1\)", then), then


def test_lab_phones_reach_the_line_and_every_agent(lab_dialplan: Dialplan, config: Config) -> None:
    (target,) = goto_targets(lab_dialplan.steps_of("lab-phones", "500")[0])
    assert (target.context, target.exten) == ("ari-app-inbound", "+16175550142")
    for user in config.users.values():
        number = user.endpoint.split("/", 1)[1]
        assert lab_dialplan.match("lab-phones", number) == number


# --- pjsip, ARI, HTTP, modules, RTP ---------------------------------------------------------


def test_every_agent_of_people_yaml_has_a_pjsip_endpoint(config: Config) -> None:
    pjsip = conf("pjsip.conf")
    assert config.users
    for name, user in config.users.items():
        tech, resource = user.endpoint.split("/", 1)
        assert tech == "PJSIP", f"{name}: the lab only has PJSIP endpoints"
        kinds: dict[str, dict[str, list[str]]] = {}
        for section in pjsip.named(resource):
            resolved = pjsip.resolved(section)
            kinds[resolved["type"][-1]] = resolved
        assert {"endpoint", "auth", "aor"} <= set(kinds), f"{name}: {resource} incomplete"
        endpoint = kinds["endpoint"]
        assert endpoint["auth"] == [resource]
        assert endpoint["aors"] == [resource]
        assert kinds["auth"]["username"] == [resource]
        assert SECRET.fullmatch(kinds["auth"]["password"][-1]), "password must come from .env"
        assert endpoint["direct_media"] == ["no"]


def test_no_literal_password_in_the_lab_files() -> None:
    for name in ["ari.conf", "pjsip.conf"]:
        for section in conf(name).sections:
            for value in section.values("password"):
                assert SECRET.fullmatch(value), f"{name} [{section.name}] has a literal password"


def test_ari_user_is_the_apps_user_with_the_password_from_its_variable(
    config: Config,
) -> None:
    ari = conf("ari.conf")
    (general,) = ari.named("general")
    assert general.get("enabled") == "yes"
    (user,) = ari.named(config.app.ari.username)
    assert user.get("type") == "user"
    assert user.get("read_only") == "no"
    assert user.get("password") == "${" + config.app.ari.password_env + "}"


def test_http_server_listens_on_loopback_where_the_app_looks_for_ari(
    config: Config,
) -> None:
    (general,) = conf("http.conf").named("general")
    url = urlsplit(config.app.ari.url)
    assert general.get("enabled") == "yes"
    assert general.get("bindaddr") == "127.0.0.1"
    assert url.hostname == "127.0.0.1"
    assert int(general.get("bindport") or 0) == (url.port or 80)


def test_modules_needed_by_external_media_are_loaded() -> None:
    (modules,) = conf("modules.conf").named("modules")
    required = set(modules.values("require"))
    loaded = required | set(modules.values("load"))
    assert modules.get("autoload") == "yes"
    assert {"chan_rtp.so", "res_ari.so", "res_stasis.so", "app_stasis.so"} <= required
    assert {"res_http_websocket.so", "res_rtp_asterisk.so", "bridge_softmix.so"} <= required
    assert "chan_websocket.so" in loaded
    assert not loaded & set(modules.values("noload"))


def rtp_range() -> tuple[int, int]:
    (general,) = conf("rtp.conf").named("general")
    return int(general.get("rtpstart") or 0), int(general.get("rtpend") or 0)


def test_asterisk_rtp_range_is_sane_and_apart_from_the_apps_range(
    config: Config,
) -> None:
    start, end = rtp_range()
    assert 1024 < start < end <= 65535
    ours_start, ours_end = config.app.media.port_range
    # In the lab both processes share one network namespace: the ranges must not meet.
    assert end < ours_start or start > ours_end


def test_every_mailbox_the_lab_names_exists_in_voicemail_conf(lab_dialplan: Dialplan) -> None:
    voicemail = conf("voicemail.conf")
    boxes = {(s.name, item.key) for s in voicemail.sections for item in s.items}
    named: list[str] = []
    for section in conf("pjsip.conf").sections:
        named += [box for value in section.values("mailboxes") for box in value.split(",")]
    for step in lab_dialplan.steps:
        if step.app in {"VoiceMail", "VoiceMailMain"}:
            named.append(split_args(step.args)[0])
    static = [box for box in named if "${" not in box]
    assert static
    for box in static:
        mailbox, _, context = box.partition("@")
        assert (context or "default", mailbox) in boxes, f"{box} missing from voicemail.conf"
    # The dynamic ${EXTEN}@ari-app of [lab-agents] serves the agents reached from lab-phones.
    for exten in ["201", "202", "301"]:
        assert ("ari-app", exten) in boxes


def test_placeholders_are_exactly_the_secrets_the_start_script_fills() -> None:
    script = (LAB / "start-asterisk.sh").read_text(encoding="utf-8")
    match = re.search(r"^secrets=\(([^)]*)\)$", script, re.MULTILINE)
    assert match
    secrets = set(match[1].split())
    used: set[str] = set()
    for name in ["ari.conf", "pjsip.conf", "voicemail.conf", "http.conf", "rtp.conf"]:
        used |= set(SECRET.findall((LAB / name).read_text(encoding="utf-8")))
    assert used == secrets
