"""Keep Python's garbage collector from pausing calls: freeze the heap built at start-up.

A full (generation 2) collection walks every object the interpreter tracks. After start-up
that is some hundred thousand objects (modules, the models' Python wrappers, the
configuration, the lexicons), and walking them took 45–80 ms on a two-core machine, once
every ten seconds or so at twenty calls: a pause of the event loop that every call's
outbound audio felt (BENCHMARKS.md). Those objects live as long as the process, so after
start-up they are collected once and then frozen out of every later collection
(:func:`gc.freeze`); full collections then walk only what calls create.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect garbage, then exclude every surviving object from later collections.

    Call once, in a process that hosts one runtime, after it has started. Returns how many
    objects were frozen.
    """
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "froze %d start-up objects out of garbage collection (%.0f ms)",
        frozen,
        (time.perf_counter() - started) * 1000,
    )
    return frozen
