"""The benchmark's application process: call events cross the pipe as they were emitted."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from ari_app.bench.app_process import AppProcess, event_from_line, event_kinds, event_line
from ari_app.call.events import CallEvent, CallEventType


def _sample(kind: type[CallEvent]) -> CallEvent:
    values: dict[str, object] = {}
    hints = typing.get_type_hints(kind)
    for field in dataclasses.fields(kind):
        hint = str(hints[field.name])
        if "bool" in hint:
            values[field.name] = True
        elif "int" in hint and "str" not in hint:
            values[field.name] = 7
        elif "float" in hint:
            values[field.name] = 0.5
        else:
            values[field.name] = f'{field.name} é\n"x"'
    return kind(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", event_kinds().values(), ids=lambda k: k.__name__)
def test_every_call_event_survives_the_line(kind: type[CallEvent]) -> None:
    event = _sample(kind)
    line = event_line(event)
    assert "\n" not in line
    back = event_from_line(line)
    assert type(back) is kind
    assert back == event


def test_every_kind_of_event_is_known() -> None:
    assert set(event_kinds()) == {str(t) for t in CallEventType}


async def test_a_child_that_fails_leaves_its_error_in_a_log_made_where_asked(
    tmp_path: Path,
) -> None:
    """A fresh clone has no ``var/cache``: the log's folder is made, and the failure names it."""
    log = tmp_path / "not" / "yet" / "app-process.log"
    app = AppProcess(lambda event: None, log)
    with pytest.raises(RuntimeError, match=r"app-process\.log"):
        await app.start({"config_dir": str(tmp_path)}, within=120)
    assert "KeyError" in log.read_text()
