"""Load a config directory (app.yaml, people.yaml, lines.yaml) into one validated ``Config``.

Every problem names its file, line and key path; all problems of all files are reported
together, so an administrator fixes them in one pass.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ari_app.config.channel_checks import channel_problems
from ari_app.config.knowledge import line_knowledge_problems
from ari_app.config.marked_yaml import ConfigProblem, KeyPath, MarkedDocument, read_marked_yaml
from ari_app.config.models import AppSettings, Config, LinesFile, People
from ari_app.errors import AriAppError, Stage

APP_FILE = "app.yaml"
PEOPLE_FILE = "people.yaml"
LINES_FILE = "lines.yaml"
GREETING_FIELDS = frozenset({"next_opening"})
M = TypeVar("M", bound=BaseModel)
PATTERN_MEANINGS = {
    r"^[A-Za-z0-9_.-]+$": "a name may only use letters, digits, '_', '.' and '-'",
    r"^[A-Za-z0-9_]+/\S+$": 'an endpoint is written TECH/resource, like "PJSIP/201"',
    r"^https?://": "the URL must start with http:// or https://",
}
SECRET_KEYS = frozenset({"password", "secret", "token", "api_key", "apikey"})


class ConfigError(AriAppError):
    """The configuration has problems; ``problems`` lists every one with file and line."""

    stage = Stage.CONFIG

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line or 0, p.key_path))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return str(self.args[0])


def _all_field_names(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every field name in ``model`` and the models nested in it (for "did you mean")."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for candidate in _models_in(field.annotation):
            names |= _all_field_names(candidate, seen)
    return names


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _models_in(arg)


def _located_path(doc: MarkedDocument, loc: tuple[int | str, ...]) -> KeyPath:
    """Keep the parts of a pydantic ``loc`` that are real keys in the document."""
    path: KeyPath = ()
    for part in loc:
        candidate = (*path, part)
        if candidate in doc.lines:
            path = candidate
    return path


_USERINFO = re.compile(r"//[^/@\s]*@")


def _shown(value: object) -> object:
    """A value as echoed in a problem: any ``//user:password@`` of a URL masked."""
    return _USERINFO.sub("//***@", value) if isinstance(value, str) else value


def _problems_from(
    doc: MarkedDocument, err: ValidationError, known: set[str]
) -> list[ConfigProblem]:
    problems = []
    for item in err.errors(include_url=False):
        loc = tuple(p for p in item["loc"] if p != "[key]")
        path = _located_path(doc, loc)
        kind = item["type"]
        message = str(item["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = str(loc[-1])
            message = f"unknown key {key!r}"
            if key.lower() in SECRET_KEYS:
                message += (
                    " — secrets never go in YAML; put the password in the environment"
                    " variable named by ari.password_env"
                )
            close = difflib.get_close_matches(key, sorted(known), n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        elif kind == "missing":
            message = f"missing required key {loc[-1]!r}"
            problems.append(doc.problem(path, message))
            continue
        elif "input" in item and not kind.startswith("value_error") and kind != "assertion_error":
            message += f" (got {_shown(item['input'])!r})"
        if kind == "string_pattern_mismatch":
            pattern = str((item.get("ctx") or {}).get("pattern", ""))
            message = PATTERN_MEANINGS.get(pattern, message) + f" (got {_shown(item['input'])!r})"
        problems.append(doc.problem(path or loc, message))
    return problems


def _validate(doc: MarkedDocument, model: type[M], problems: list[ConfigProblem]) -> M | None:
    try:
        return model.model_validate(doc.data)
    except ValidationError as err:
        problems.extend(_problems_from(doc, err, _all_field_names(model)))
        return None


def _read(
    file: Path, model: type[M], problems: list[ConfigProblem]
) -> tuple[MarkedDocument, M | None]:
    """Read one file and validate it, adding every problem found to ``problems``."""
    doc, found = read_marked_yaml(file)
    problems += found
    if not isinstance(doc.data, dict):
        return doc, None
    validated = _validate(doc, model, problems)
    return doc, validated if not found else None


def _cross_check(
    people_doc: MarkedDocument, people: People, lines_doc: MarkedDocument, lines: LinesFile
) -> list[ConfigProblem]:
    """References between files: members, fallbacks, targets, greeting placeholders."""
    problems: list[ConfigProblem] = []
    for name in sorted(set(people.users) & set(people.teams)):
        problems.append(
            people_doc.problem(
                ("teams", name), f"{name!r} names both a user and a team; names must be unique"
            )
        )
    for team_name, team in people.teams.items():
        for i, member in enumerate(team.members):
            if member not in people.users:
                problems.append(
                    people_doc.problem(
                        ("teams", team_name, "members", i), f"unknown user {member!r}"
                    )
                )
        if team.fallback is not None:
            if team.fallback not in people.teams:
                problems.append(
                    people_doc.problem(
                        ("teams", team_name, "fallback"), f"unknown team {team.fallback!r}"
                    )
                )
            else:
                chain: list[str] = [team_name]
                current: str | None = team.fallback
                while current is not None and current not in chain:
                    chain.append(current)
                    current = people.teams[current].fallback if current in people.teams else None
                if current is not None:
                    problems.append(
                        people_doc.problem(
                            ("teams", team_name, "fallback"),
                            "fallback teams go round in a circle: "
                            + " -> ".join([*chain, current]),
                        )
                    )
    targets = set(people.users) | set(people.teams)
    for line_name, line in lines.lines.items():
        base: KeyPath = ("lines", line_name)
        for i, target in enumerate(line.routing.targets):
            if target not in targets:
                problems.append(
                    lines_doc.problem(
                        (*base, "routing", "targets", i), f"unknown team or user {target!r}"
                    )
                )
        for t, topic in enumerate(line.routing.topics):
            for i, target in enumerate(topic.targets):
                if target not in targets:
                    problems.append(
                        lines_doc.problem(
                            (*base, "routing", "topics", t, "targets", i),
                            f"unknown team or user {target!r}",
                        )
                    )
        for key in ("greeting_in_hours", "greeting_after_hours"):
            text = getattr(line.voicemail, key)
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as err:
                problems.append(
                    lines_doc.problem((*base, "voicemail", key), f"bad placeholder: {err}")
                )
                continue
            for unknown in sorted(fields - GREETING_FIELDS):
                problems.append(
                    lines_doc.problem(
                        (*base, "voicemail", key),
                        f"unknown placeholder {{{unknown}}}; known: {{next_opening}}",
                    )
                )
    return problems


def load_config(config_dir: Path | str) -> Config:
    """Read and validate ``config_dir``; raise ``ConfigError`` listing every problem."""
    root = Path(config_dir)
    problems: list[ConfigProblem] = []
    if not root.is_dir():
        raise ConfigError([ConfigProblem(root, None, "", "config directory not found")])

    app: AppSettings | None = AppSettings()
    app_doc: MarkedDocument | None = None
    if (root / APP_FILE).exists():
        app_doc, app = _read(root / APP_FILE, AppSettings, problems)
    people_doc, people = _read(root / PEOPLE_FILE, People, problems)
    lines_doc, lines = _read(root / LINES_FILE, LinesFile, problems)

    if lines is not None:
        problems += line_knowledge_problems(root, lines_doc, lines.lines)
    if people is not None and lines is not None:
        problems += _cross_check(people_doc, people, lines_doc, lines)
        if app is not None:
            problems += channel_problems(
                root,
                app_doc=app_doc,
                app=app,
                people_doc=people_doc,
                people=people,
                lines_doc=lines_doc,
                lines=lines,
            )
    if problems or app is None or people is None or lines is None:
        raise ConfigError(problems)
    return Config(
        config_dir=root, app=app, users=people.users, teams=people.teams, lines=lines.lines
    )
