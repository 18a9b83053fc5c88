"""YAML reading that remembers where every value came from and refuses duplicate keys.

PyYAML's composer gives nodes with marks; we build plain Python data from them and a
table from key path (``("lines", "main", "hours", "monday", 0)``) to its 1-based line.

Reading is bounded, so a hostile or broken file gives a file:line problem, never a
traceback, a hang or gigabytes of memory: at most :data:`MAX_FILE_BYTES`, nesting at most
:data:`MAX_DEPTH` (checked on the event stream, before anything recursive runs), at most
:data:`MAX_VALUES` values once aliases are expanded (a "billion laughs" bomb stops there),
no alias that contains itself, and values PyYAML cannot build (``2026-13-45``) reported
where they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

MAX_FILE_BYTES = 1 << 20
"""Largest configuration or knowledge-base file read."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and sequences (a real config nests about 7 deep)."""
MAX_VALUES = 200_000
"""Most values a file may hold once its aliases are expanded."""


class YamlBoundError(Exception):
    """A bound of the reader was passed; carries the 1-based line and the message."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a configuration file, with where it is."""

    file: Path
    line: int | None
    key_path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


@dataclass(slots=True)
class MarkedDocument:
    """Data read from one YAML file, with the line of every key path in it."""

    file: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None

    def problem(self, path: KeyPath, message: str) -> ConfigProblem:
        """A problem located at ``path`` in this file."""
        return ConfigProblem(self.file, self.line_of(path), format_path(path), message)


def format_path(path: KeyPath) -> str:
    """``("lines", "main", "hours", 0)`` -> ``lines.main.hours[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class _Builder:
    """Turns a composed node tree into Python data, recording lines and problems."""

    def __init__(self, file: Path) -> None:
        self.doc = MarkedDocument(file, None)
        self.problems: list[ConfigProblem] = []
        self._constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, TypeError) as err:
            # e.g. 2026-13-45 looks like a date to YAML but is none; 1e999999 digits ...
            value = str(node.value)[:40]
            self.problems.append(
                ConfigProblem(
                    self.doc.file,
                    node.start_mark.line + 1,
                    format_path(path),
                    f"cannot read the value {value!r}: {err}; quote it if it is text",
                )
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    ConfigProblem(
                        self.doc.file, line, format_path(path), "a key must be a plain value"
                    )
                )
                continue
            key = self._constructor.construct_object(key_node)
            if key == "<<":
                self.problems.append(
                    ConfigProblem(
                        self.doc.file,
                        line,
                        format_path(path),
                        "YAML merge keys (<<) are not supported",
                    )
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in first_seen:
                self.problems.append(
                    ConfigProblem(
                        self.doc.file,
                        line,
                        format_path((*path, key)),
                        f"duplicate key {key!r} (first defined on line {first_seen[key]})",
                    )
                )
                continue
            first_seen[key] = line
            self.doc.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result


def _line(mark: Any) -> int | None:
    return int(mark.line) + 1 if mark is not None else None


_EVENT_LOADER: Any = getattr(yaml, "CSafeLoader", None)
"""LibYAML's parser when PyYAML has it: fast, and bounded in nesting by itself."""


def _naive_flow_depth(text: str) -> int:
    """Deepest run of unclosed ``[``/``{`` (an upper bound; used only without LibYAML)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _check_events(text: str) -> None:
    """Refuse nesting past :data:`MAX_DEPTH` on the event stream (nothing recursive runs).

    Syntax errors are left to the composer, which words them better.
    """
    if _EVENT_LOADER is None and _naive_flow_depth(text) > 1000:
        # PyYAML's pure scanner is quadratic in flow depth; refuse before it starts.
        raise YamlBoundError(None, f"nested more than {MAX_DEPTH} levels deep")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_EVENT_LOADER or yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlBoundError(
                        _line(event.start_mark), f"nested more than {MAX_DEPTH} levels deep"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as err:
        if "nesting depth" in str(err.problem):
            raise YamlBoundError(
                _line(err.problem_mark), f"nested more than {MAX_DEPTH} levels deep"
            ) from None


def _check_expansion(root: yaml.Node) -> None:
    """Refuse self-containing aliases and more than :data:`MAX_VALUES` expanded values."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlBoundError(_line(node.start_mark), "an alias refers to a value containing it")
        if depth > 2 * MAX_DEPTH:
            raise YamlBoundError(
                _line(node.start_mark), f"nested more than {MAX_DEPTH} levels deep (aliases)"
            )
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > MAX_VALUES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
                if total > MAX_VALUES:
                    break
        open_nodes.discard(key)
        if total > MAX_VALUES:
            raise YamlBoundError(
                _line(node.start_mark),
                f"more than {MAX_VALUES} values once aliases are expanded (an alias bomb?)",
            )
        sizes[key] = total
        return total

    size(root, 0)


def compose_bounded(text: str) -> yaml.Node | None:
    """Compose ``text`` within the bounds above.

    Raises ``YamlBoundError`` for a bound passed and ``yaml.YAMLError`` for bad syntax.
    """
    if len(text) > MAX_FILE_BYTES:
        raise YamlBoundError(None, f"file larger than {MAX_FILE_BYTES // 1024} KiB")
    _check_events(text)
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        _check_expansion(node)
    return node


def read_marked_yaml(file: Path) -> tuple[MarkedDocument, list[ConfigProblem]]:
    """Read ``file``; return its data with line marks and every problem found reading it."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return MarkedDocument(file, None), [ConfigProblem(file, None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as err:
        return MarkedDocument(file, None), [ConfigProblem(file, None, "", f"cannot read: {err}")]
    try:
        node = compose_bounded(text)
    except YamlBoundError as err:
        return MarkedDocument(file, None), [ConfigProblem(file, err.line, "", err.message)]
    except yaml.MarkedYAMLError as err:
        # An unclosed bracket or quote is noticed later; point at where it was opened.
        mark = err.context_mark or err.problem_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(p for p in (err.context, err.problem) if p)
        if err.problem_mark is not None and err.problem_mark.line + 1 != line:
            reason += f" (noticed on line {err.problem_mark.line + 1})"
        return MarkedDocument(file, None), [
            ConfigProblem(file, line, "", f"YAML syntax error: {reason}")
        ]
    except yaml.YAMLError as err:
        return MarkedDocument(file, None), [ConfigProblem(file, None, "", f"YAML error: {err}")]
    if node is None:
        return MarkedDocument(file, None), [
            ConfigProblem(file, 1, "", "file is empty; expected a mapping of settings")
        ]
    builder = _Builder(file)
    try:
        builder.doc.data = builder.build(node, ())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return builder.doc, [ConfigProblem(file, line, "", f"YAML error: {err}")]
    if not isinstance(builder.doc.data, dict):
        builder.problems.append(
            ConfigProblem(file, 1, "", "the top level must be a mapping of settings")
        )
    return builder.doc, builder.problems
