"""YAML reading that remembers where every value came from and refuses duplicate keys.

PyYAML's composer gives nodes with marks; we build plain Python data from them and a
table from key path (``("lines", "main", "hours", "monday", 0)``) to its 1-based line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


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
        return self._constructor.construct_object(node, deep=True)

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


def read_marked_yaml(file: Path) -> tuple[MarkedDocument, list[ConfigProblem]]:
    """Read ``file``; return its data with line marks and every problem found reading it."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return MarkedDocument(file, None), [ConfigProblem(file, None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as err:
        return MarkedDocument(file, None), [ConfigProblem(file, None, "", f"cannot read: {err}")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
