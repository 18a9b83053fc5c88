"""Fuzz: random and mutated YAML at the config loader (issue 14 #3, #8, #12).

Each example damages one file of a copy of the sample configuration (app.yaml,
people.yaml, lines.yaml or a knowledge-base file): random text spliced in, lines
dropped or repeated, hostile YAML (aliases, tags, deep nesting, odd numbers and dates).
Loading must give a ``Config`` or a ``ConfigError`` whose problems all name a file, never
another exception; a reload of the damaged copy keeps the last good configuration, and
once the file is restored the configuration loads again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ari_app.config import ConfigHolder

SAMPLE = Path(__file__).resolve().parents[2] / "config"
FILES = ["app.yaml", "people.yaml", "lines.yaml", "knowledge/money.yaml"]
SNIPPETS = [
    "x: &a [1, *a]\n",
    "x: !!python/object/apply:os.system ['echo pwned']\n",
    "x: !!binary '////'\n",
    "[" * 200 + "]" * 200 + "\n",
    "date: 2026-13-45\n",
    "silence_seconds: .inf\n",
    "overall_timeout: .nan\n",
    "rate: 99999999999999999999999999\n",
    "<<: *undefined\n",
    "? [complex, key]\n: value\n",
    "\t\tbad: indent\n",
    "key: 'unclosed\n",
    "- a\n- b\n",
    "knowledge_base: ../../etc\n",
    "url: http://user:pw@host\n",
    "\x00\x1b\ufeff\n",
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
]


@st.composite
def damage(draw: st.DrawFn) -> tuple[str, list[tuple[str, int, str]]]:
    name = draw(st.sampled_from(FILES))
    edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["splice", "snippet", "drop", "repeat"]),
                st.integers(0, 10_000),
                st.one_of(st.text(max_size=30), st.sampled_from(SNIPPETS)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return name, edits


def _apply(text: str, edits: list[tuple[str, int, str]]) -> str:
    for kind, where, extra in edits:
        lines = text.splitlines(keepends=True) or [""]
        at = where % (len(lines) + 1)
        if kind == "splice":
            pos = where % (len(text) + 1)
            text = text[:pos] + extra + text[pos:]
        elif kind == "snippet":
            indent = " " * (where % 7)
            text = "".join([*lines[:at], indent + extra + "\n", *lines[at:]])
        elif kind == "drop":
            text = "".join(lines[:at] + lines[at + 1 :])
        else:
            text = "".join([*lines[: at + 1], *lines[at:]])
    return text


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> ConfigHolder:
    """A private copy of the sample configuration, loaded once."""
    root = tmp_path_factory.mktemp("fuzz") / "config"
    shutil.copytree(SAMPLE, root)
    return ConfigHolder(root)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(change=damage())
def test_damaged_yaml_is_a_config_error_never_a_crash(
    holder: ConfigHolder, change: tuple[str, list[tuple[str, int, str]]]
) -> None:
    """Fuzz (#3, #8, #12): a located ConfigError or a Config; reloads keep the good one."""
    name, edits = change
    root = holder.config_dir
    good = holder.current
    target = root / name
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(_apply(original, edits), encoding="utf-8")
        error = holder.reload()
        if error is not None:
            assert error.problems
            # The holder turns an unexpected exception into "cannot load: ..."; none may occur.
            assert not any(p.message.startswith("cannot load") for p in error.problems)
            assert all(str(p.file).startswith(str(root)) for p in error.problems)
            assert holder.current is good
    finally:
        target.write_text(original, encoding="utf-8")
    assert holder.reload() is None
    assert holder.current.lines.keys() == good.lines.keys()
