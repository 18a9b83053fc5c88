"""Named single-thread executors shared by the whole process (one per engine).

Engines whose native state is process-global (espeak-ng, Piper's phonemiser) or whose CPU
use must stay bounded under many calls (the Silero VAD) run all their work on one thread;
:func:`single_worker` hands out that thread's executor, created on first use.
"""

from __future__ import annotations

import concurrent.futures
import threading

_lock = threading.Lock()
_workers: dict[str, concurrent.futures.ThreadPoolExecutor] = {}


def single_worker(name: str) -> concurrent.futures.ThreadPoolExecutor:
    """The process's one worker thread called ``name`` (threads are named after it)."""
    with _lock:
        worker = _workers.get(name)
        if worker is None:
            worker = _workers[name] = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=name
            )
        return worker
