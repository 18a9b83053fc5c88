"""A small reader of Asterisk .conf files for the lab tests: sections, items, dialplan.

It understands what the files in ``dialplan/`` use: ``;`` comments (``\\;`` is a literal
semicolon), ``;-- ... --;`` block comments, ``[name]`` / ``[name](!)`` /
``[name](template,...)`` section headers, ``key = value`` and ``key => value`` items, and
``#include`` / ``#tryinclude`` directives. Anything else is an error naming file and
line, so a typo in a lab file fails the tests instead of being skipped by Asterisk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HEADER = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<opts>[^)]*)\))?$")
ITEM = re.compile(r"^(?P<key>[^=]+?)\s*=>?\s*(?P<value>.*)$")
INCLUDE = re.compile(r"^#(?P<kind>include|tryinclude)\s+\"?(?P<path>[^\"]+?)\"?$")


class ConfError(ValueError):
    """A line the reader does not understand; the message names file and line."""


@dataclass
class Item:
    """One ``key = value`` or ``key => value`` line."""

    key: str
    value: str
    line: int


@dataclass
class Section:
    """One ``[name](options)`` block with its items in file order."""

    name: str
    is_template: bool
    templates: list[str]
    items: list[Item] = field(default_factory=list)
    file: Path = Path()
    line: int = 0

    def values(self, key: str) -> list[str]:
        """Every value of ``key`` in this section, in order."""
        return [item.value for item in self.items if item.key == key]

    def get(self, key: str) -> str | None:
        """The last value of ``key`` in this section, or None."""
        found = self.values(key)
        return found[-1] if found else None


@dataclass
class ConfFile:
    """A parsed file: its sections in order and the files it includes."""

    path: Path
    sections: list[Section]
    includes: list[str]

    def named(self, name: str) -> list[Section]:
        """Every section called ``name`` (pjsip.conf reuses a name for several types)."""
        return [s for s in self.sections if s.name == name]

    def resolved(self, section: Section) -> dict[str, list[str]]:
        """Items of ``section`` with its templates' items first (Asterisk's inheritance)."""
        merged: dict[str, list[str]] = {}
        for template_name in section.templates:
            templates = [s for s in self.named(template_name) if s.is_template]
            if not templates:
                raise ConfError(f"{self.path}:{section.line}: no template [{template_name}](!)")
            for key, values in self.resolved(templates[-1]).items():
                merged.setdefault(key, []).extend(values)
        for item in section.items:
            merged.setdefault(item.key, []).append(item.value)
        return merged


def _strip_comment(raw: str, in_block: bool) -> tuple[str, bool]:
    """Remove comments from one line; return the text and whether a block comment is open."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        if in_block:
            end = raw.find("--;", i)
            if end < 0:
                return "".join(out), True
            i, in_block = end + 3, False
            continue
        if raw.startswith(";--", i):
            in_block = True
            i += 3
            continue
        ch = raw[i]
        if ch == "\\" and raw.startswith("\\;", i):
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out), in_block


def parse_text(text: str, path: Path) -> ConfFile:
    """Parse the text of one .conf file."""
    sections: list[Section] = []
    includes: list[str] = []
    in_block = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line, in_block = _strip_comment(raw, in_block)
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = INCLUDE.match(line)
            if not match:
                raise ConfError(f"{path}:{number}: unknown directive {line!r}")
            includes.append(match["path"])
            continue
        header = HEADER.match(line)
        if header:
            opts = [o.strip() for o in (header["opts"] or "").split(",") if o.strip()]
            sections.append(
                Section(
                    name=header["name"].strip(),
                    is_template="!" in opts,
                    templates=[o for o in opts if o not in {"!", "+"}],
                    file=path,
                    line=number,
                )
            )
            continue
        item = ITEM.match(line)
        if not item:
            raise ConfError(f"{path}:{number}: neither a section, an item nor a directive")
        if not sections:
            raise ConfError(f"{path}:{number}: item before the first [section]")
        sections[-1].items.append(Item(item["key"].strip(), item["value"].strip(), number))
    if in_block:
        raise ConfError(f"{path}: a ;-- block comment is never closed")
    return ConfFile(path=path, sections=sections, includes=includes)


def parse_file(path: Path) -> ConfFile:
    """Parse one .conf file from disk."""
    return parse_text(path.read_text(encoding="utf-8"), path)


def parse_with_includes(path: Path) -> list[ConfFile]:
    """Parse ``path`` and, depth first, every file it ``#include``s.

    An included name is looked up beside ``path``, then one folder up: the lab's
    extensions.conf includes the inbound snippet ``dialplan/extensions_ari_app.conf``,
    which start-asterisk.sh copies beside it into /etc/asterisk.
    """
    return list(_walk(path, [path.parent, path.parent.parent], set()))


def _walk(path: Path, folders: list[Path], seen: set[Path]) -> Iterator[ConfFile]:
    if path in seen:
        raise ConfError(f"{path}: included twice")
    seen.add(path)
    conf = parse_file(path)
    yield conf
    for name in conf.includes:
        candidates = [folder / name for folder in folders if (folder / name).is_file()]
        if not candidates:
            raise ConfError(f"{path}: #include {name} names no file in {folders}")
        yield from _walk(candidates[0], folders, seen)


# ---------------------------------------------------------------------------------------
# Dialplan


@dataclass
class Step:
    """One priority of one extension: ``exten => ext,prio(label),App(args)``."""

    context: str
    exten: str
    priority: int
    label: str | None
    app: str
    args: str
    file: Path
    line: int

    def where(self) -> str:
        """``file:line`` of this step, for assertion messages."""
        return f"{self.file.name}:{self.line}"


@dataclass
class Dialplan:
    """Contexts, their extensions and steps, and their ``include =>`` lines."""

    steps: list[Step]
    contexts: set[str]
    includes: dict[str, list[str]]

    def extensions(self, context: str) -> list[str]:
        """The distinct extensions (literal or pattern) defined in ``context``."""
        found: list[str] = []
        for step in self.steps:
            if step.context == context and step.exten not in found:
                found.append(step.exten)
        return found

    def steps_of(self, context: str, exten: str) -> list[Step]:
        """The steps of one extension, in priority order."""
        chosen = [s for s in self.steps if s.context == context and s.exten == exten]
        return sorted(chosen, key=lambda s: s.priority)

    def match(self, context: str, dialled: str) -> str | None:
        """The extension of ``context`` that ``dialled`` reaches (literal first), or None."""
        extensions = self.extensions(context)
        if dialled in extensions:
            return dialled
        for exten in extensions:
            if exten.startswith("_") and pattern_regex(exten).fullmatch(dialled):
                return exten
        return None


APP_CALL = re.compile(r"^(?P<app>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<args>.*)\))?$")
PRIORITY = re.compile(r"^(?P<prio>\d+|n)(?:\((?P<label>[A-Za-z0-9_-]+)\))?$")


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of an Asterisk extension pattern such as ``_[23]0X.``."""
    out: list[str] = []
    body = pattern[1:]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "X":
            out.append("[0-9]")
        elif ch == "Z":
            out.append("[1-9]")
        elif ch == "N":
            out.append("[2-9]")
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        elif ch == "[":
            end = body.index("]", i)
            out.append("[" + body[i + 1 : end] + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def dialplan_of(files: list[ConfFile]) -> Dialplan:
    """Collect the dialplan of extensions.conf-style files (``general``/``globals`` skipped)."""
    steps: list[Step] = []
    contexts: set[str] = set()
    includes: dict[str, list[str]] = {}
    for conf in files:
        for section in conf.sections:
            if section.name in {"general", "globals"}:
                continue
            contexts.add(section.name)
            current: tuple[str, int] | None = None
            for item in section.items:
                if item.key == "include":
                    includes.setdefault(section.name, []).append(item.value)
                    continue
                if item.key not in {"exten", "same"}:
                    raise ConfError(f"{conf.path}:{item.line}: {item.key} in a dialplan context")
                parts = item.value.split(",", 2 if item.key == "exten" else 1)
                if item.key == "exten":
                    if len(parts) != 3:
                        raise ConfError(f"{conf.path}:{item.line}: exten needs ext,prio,app")
                    exten, prio_text, call = parts
                else:
                    if current is None or len(parts) != 2:
                        raise ConfError(f"{conf.path}:{item.line}: same => without an exten")
                    exten = current[0]
                    prio_text, call = parts
                prio = PRIORITY.match(prio_text.strip())
                if not prio:
                    raise ConfError(f"{conf.path}:{item.line}: bad priority {prio_text!r}")
                if prio["prio"] == "n":
                    if current is None or current[0] != exten.strip():
                        raise ConfError(f"{conf.path}:{item.line}: priority n without a first")
                    number = current[1] + 1
                else:
                    number = int(prio["prio"])
                app = APP_CALL.match(call.strip())
                if not app:
                    raise ConfError(f"{conf.path}:{item.line}: bad application call {call!r}")
                current = (exten.strip(), number)
                steps.append(
                    Step(
                        context=section.name,
                        exten=exten.strip(),
                        priority=number,
                        label=prio["label"],
                        app=app["app"],
                        args=app["args"] or "",
                        file=conf.path,
                        line=item.line,
                    )
                )
    return Dialplan(steps=steps, contexts=contexts, includes=includes)


@dataclass(frozen=True)
class Target:
    """Where a Goto-like application sends the channel."""

    context: str
    exten: str
    priority: str


def goto_targets(step: Step) -> list[Target]:
    """The destinations of a ``Goto``/``GotoIf`` step, completed with the step's own place.

    ``Goto(prio)``, ``Goto(ext,prio)`` and ``Goto(ctx,ext,prio)``, and for ``GotoIf`` both
    branches of ``cond?true:false``.
    """
    if step.app == "Goto":
        branches = [step.args]
    elif step.app == "GotoIf":
        _, sep, tail = step.args.rpartition("?")
        if not sep:
            raise ConfError(f"{step.where()}: GotoIf without '?'")
        branches = [b for b in tail.split(":") if b]
    else:
        return []
    targets: list[Target] = []
    for branch in branches:
        parts = [p.strip() for p in branch.split(",")]
        if len(parts) == 1:
            targets.append(Target(step.context, step.exten, parts[0]))
        elif len(parts) == 2:
            targets.append(Target(step.context, parts[0], parts[1]))
        elif len(parts) == 3:
            targets.append(Target(parts[0], parts[1], parts[2]))
        else:
            raise ConfError(f"{step.where()}: {step.app}({step.args}) has too many parts")
    return targets


def split_args(args: str) -> list[str]:
    """Split an application's arguments on top-level commas."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in args:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts
