"""A small dialplan for the fake Asterisk, as data, and the runner that walks it.

Inbound calls start in a context at an extension (the DID) and run its priorities, as
Asterisk's pbx does. The runner knows the applications the project's dialplans use:
``NoOp``, ``Answer``, ``Stasis`` (sets ``STASISSTATUS``: ``SUCCESS`` when the app let the
channel go with ``continue``, ``FAILED`` when the app is not connected), ``Goto``,
``GotoIf`` (conditions ``$["${VAR}" = "VALUE"]`` and ``!=``), ``Dial`` (rings the fake's
agent endpoints, sets ``DIALSTATUS``), ``VoiceMail`` and ``Hangup``. What happened is
written to the channel's ``dialplan_log`` ("rang PJSIP/201&PJSIP/202", "hung up with
603"), so tests can see where a caller went.

:func:`lab_dialplan` is ``dialplan/extensions_ari_app.conf`` of this project as data;
:func:`parse_extensions` reads an ``extensions.conf`` text into the same form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk
    from ari_app.testing.model import FakeChannel


@dataclass(frozen=True, slots=True)
class Step:
    """One priority: application, its data and an optional label."""

    app: str
    data: str = ""
    label: str = ""


Dialplan = dict[str, dict[str, list[Step]]]
"""context -> extension (or ``_`` pattern) -> priorities 1, 2, ..."""

FALLBACK_CONTEXT = "ari-app-fallback-main"


def line_extension(app: str, args: list[str] | tuple[str, ...], note: str = "") -> list[Step]:
    """The priorities of one line in ``[ari-app-inbound]``: Stasis, then the fallback
    checks (the app not there: ``FAILED``; the app handed the call back with
    ``ARI_APP_FALLBACK`` set)."""
    return [
        Step("NoOp", note or f"ari_app line {','.join(args)}"),
        Step("Stasis", ",".join([app, *args])),
        Step("GotoIf", f'$["${{STASISSTATUS}}" = "FAILED"]?{FALLBACK_CONTEXT},s,1'),
        Step("GotoIf", f'$["${{ARI_APP_FALLBACK}}" != ""]?{FALLBACK_CONTEXT},s,1'),
        Step("Hangup"),
    ]


def lab_dialplan() -> Dialplan:
    """``dialplan/extensions_ari_app.conf`` (line "main") and the lab's agent phones."""
    goto_main = [Step("Goto", "ari-app-inbound,+16175550142,1")]
    return {
        "ari-app-inbound": {
            "+16175550142": line_extension(
                "ari-app", ["main"], "ari_app line main: Harbour Light Dental"
            ),
            "16175550142": list(goto_main),
            "6175550142": list(goto_main),
        },
        FALLBACK_CONTEXT: {
            "s": [
                Step(
                    "NoOp",
                    "ari-app did not take the call (${ARI_APP_FALLBACK}): "
                    "ringing the front desk directly",
                ),
                Step("Dial", "PJSIP/201&PJSIP/202,20"),
                Step("GotoIf", '$["${DIALSTATUS}" = "ANSWER"]?done'),
                Step("VoiceMail", "main@ari-app,su"),
                Step("Hangup", label="done"),
            ],
        },
        "lab-agents": {
            "_X.": [
                Step("Dial", "PJSIP/${EXTEN},20"),
                Step("GotoIf", '$["${DIALSTATUS}" = "ANSWER"]?done'),
                Step("VoiceMail", "${EXTEN}@ari-app,u"),
                Step("Hangup", label="done"),
            ],
        },
    }


_EXTEN = re.compile(r"^(exten|same)\s*=>?\s*(.*)$")
_PRIORITY = re.compile(r"^(?P<prio>\d+|n)(?:\((?P<label>[\w-]+)\))?$")


def parse_extensions(text: str) -> Dialplan:
    """Read ``exten =>``/``same =>`` lines of an ``extensions.conf`` text (no includes)."""
    plan: Dialplan = {}
    context = ""
    exten = ""
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and "]" in line:
            context = line[1 : line.index("]")]
            plan.setdefault(context, {})
            continue
        match = _EXTEN.match(line)
        if match is None or not context:
            continue
        rest = match.group(2)
        if match.group(1) == "exten":
            exten, _, rest = rest.partition(",")
        prio, _, call = rest.partition(",")
        label_match = _PRIORITY.match(prio.strip())
        app, _, data = call.partition("(")
        plan[context].setdefault(exten.strip(), []).append(
            Step(
                app.strip(),
                data[: data.rindex(")")] if ")" in data else data,
                (label_match.group("label") or "") if label_match else "",
            )
        )
    return plan


def _pattern(pattern: str) -> re.Pattern[str]:
    out = []
    for char in pattern[1:]:
        out.append(
            {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}.get(
                char, re.escape(char)
            )
        )
    return re.compile("".join(out) + "$")


def find_extension(plan: Dialplan, context: str, exten: str) -> str | None:
    """The extension of ``context`` that ``exten`` matches (exact first, then patterns)."""
    extensions = plan.get(context, {})
    if exten in extensions:
        return exten
    for name in extensions:
        if name.startswith("_") and _pattern(name).match(exten):
            return name
    return None


def substitute(text: str, variables: dict[str, str]) -> str:
    """Replace ``${NAME}`` by the channel variable (empty when unset)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), ""), text)


def condition_true(expr: str) -> bool:
    """Evaluate ``$["a" = "b"]`` / ``$["a" != "b"]`` (variables already substituted)."""
    inner = expr.strip()
    if inner.startswith("$[") and inner.endswith("]"):
        inner = inner[2:-1]
    match = re.fullmatch(r'\s*"?([^"]*?)"?\s*(!=|=)\s*"?([^"]*?)"?\s*', inner)
    if match is None:
        return inner.strip() not in ("", "0")
    left, op, right = match.groups()
    return (left == right) if op == "=" else (left != right)


class DialplanRunner:
    """Walks one channel through the fake's dialplan."""

    def __init__(self, fake: FakeAsterisk, channel: FakeChannel) -> None:
        self.fake = fake
        self.channel = channel

    def goto(self, context: str, exten: str, priority: int) -> None:
        """Continue at ``context,exten,priority`` (a missing one hangs the channel up)."""
        channel = self.channel
        channel.context, channel.exten, channel.priority = context, exten, priority

    def _steps(self) -> list[Step] | None:
        channel = self.channel
        name = find_extension(self.fake.dialplan, channel.context, channel.exten)
        return None if name is None else self.fake.dialplan[channel.context][name]

    def _jump(self, target: str) -> None:
        channel = self.channel
        parts = [p.strip() for p in target.split(",") if p.strip()]
        if len(parts) == 1:
            self.goto(channel.context, channel.exten, self._label(parts[0]))
        elif len(parts) == 2:
            self.goto(channel.context, parts[0], self._priority(parts[1]))
        else:
            self.goto(parts[0], parts[1], 1)
            self.channel.priority = self._priority(parts[2])

    def _priority(self, text: str) -> int:
        return int(text) if text.isdigit() else self._label(text)

    def _label(self, label: str) -> int:
        for index, step in enumerate(self._steps() or []):
            if step.label == label:
                return index + 1
        return 10_000

    def run(self) -> None:
        """Run priorities until the channel enters Stasis, starts ringing, or ends."""
        channel = self.channel
        while not channel.destroyed and not channel.in_stasis:
            steps = self._steps()
            if steps is None or not 1 <= channel.priority <= len(steps):
                self.fake.dialplan_hangup(channel, "end of extension")
                return
            step = steps[channel.priority - 1]
            data = substitute(step.data, {**channel.variables, "EXTEN": channel.exten})
            where = f"{channel.context},{channel.exten},{channel.priority} {step.app}({data})"
            channel.app_name, channel.app_data = step.app, data
            if step.app == "Stasis":
                app, *args = data.split(",")
                if self.fake.app_registered(app):
                    channel.dialplan_log.append(f"{where} -> entered")
                    self.fake.enter_stasis(channel, app, args)
                    return
                if self.fake.outbound.per_call(app) is not None:
                    # app_stasis: no app registered, a per-call outbound websocket config
                    self.fake.spawn(
                        self.fake.outbound.stasis(channel, app, args, where),
                        f"fake-outbound-stasis-{channel.id}",
                    )
                    return
                channel.variables["STASISSTATUS"] = "FAILED"
                channel.dialplan_log.append(f"{where} -> FAILED")
            elif step.app in ("Goto", "GotoIf"):
                target = data
                if step.app == "GotoIf":
                    cond, _, branches = data.partition("?")
                    yes, _, no = branches.partition(":")
                    target = yes if condition_true(cond) else no
                channel.dialplan_log.append(f"{where} -> {target or 'next'}")
                if target:
                    self._jump(target)
                    continue
            elif step.app == "Dial":
                targets, _, rest = data.partition(",")
                timeout = rest.split(",")[0]
                channel.dialplan_log.append(f"{where} -> rang {targets}")
                channel.priority += 1
                self.fake.spawn(
                    self.fake.dialplan_dial(
                        channel, targets.split("&"), float(timeout) if timeout else None, self
                    ),
                    f"dialplan-dial-{channel.id}",
                )
                return
            elif step.app == "Hangup":
                self.fake.dialplan_hangup(channel, where)
                return
            else:
                if step.app in ("Answer", "VoiceMail"):
                    self.fake.set_state(channel, "Up")
                channel.dialplan_log.append(f"{where} -> done")
            channel.priority += 1
