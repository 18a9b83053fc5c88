"""Fuzz: random and mutated ARI event frames over a real WebSocket (issue 14 #1).

Seeds are the events a real Asterisk 22.10.1 sent (``/work/shared/ari-captures``); each
example mutates some of them (wrong types, hostile numbers, deleted keys, swapped event
types, truncation, raw junk) and the fake Asterisk sends them on the app's events socket.
After every batch the listener must still be running, have read every frame, and still
take a real call (StasisStart dispatched, the channel answered).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ari_app.ari.events import KNOWN_EVENTS
from ari_app.testing.event_log import APP

from .conftest import captured_events, harness

SEEDS = captured_events()
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    10**30,
    -(10**19),
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    "",
    "\x00\x1b[2J\u202e",
    "x" * 5000,
    [],
    {},
    [[[[[[[[]]]]]]]],
    {"id": 5},
    ["a", 1, None],
]

values: st.SearchStrategy[Any] = st.deferred(
    lambda: st.one_of(
        st.sampled_from(HOSTILE_VALUES),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.lists(values, max_size=3),
        st.dictionaries(st.text(max_size=8), values, max_size=3),
    )
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += _paths(child, (*prefix, i))
    return found


@st.composite
def mutated_event(draw: st.DrawFn) -> str:
    event = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(event) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = event
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "retype"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            event["type"] = draw(st.sampled_from(sorted(KNOWN_EVENTS)))
    text = json.dumps(event)  # inf/nan come out as Infinity/NaN, as an impostor sends
    edit = draw(st.sampled_from(["none", "none", "truncate", "big-number", "splice"]))
    if edit == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif edit == "big-number":
        text = text.replace(": 0", ": 1e999", 1).replace(": 1", ": -Infinity", 1)
    elif edit == "splice":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=10)) + text[at:]
    return text


frames = st.lists(
    st.one_of(
        mutated_event(),
        st.text(max_size=50),
        st.just("[" * 3000 + "]" * 3000),
        st.sampled_from([json.dumps(s) for s in SEEDS]),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=frames)
@example(batch=["[" * 3000 + "]" * 3000])
@example(batch=[json.dumps({"type": "ChannelDestroyed", "channel": {"id": "1"}, "cause": 1e999})])
def test_random_and_mutated_frames_never_stop_the_listener(batch: list[str]) -> None:
    """Fuzz (#1): whatever arrives, every frame is read and a real call still works."""

    async def run(root: Path) -> None:
        async with harness(root) as h:
            for text in batch:
                await h.fake.inject_raw_event(APP, text)
            await h.still_dispatches()
            # The good call's events came after the batch on the same socket: all were read.
            assert h.listener.stats.received >= len(batch)

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp)))
