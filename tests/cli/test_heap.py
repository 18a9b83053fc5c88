"""The start-up heap is frozen out of garbage collection (what ``ari-app run`` does once
started), so full collections no longer walk it and pause the calls' event loop."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_full_collections_skip_what_start_up_built() -> None:
    # In a process of its own: freezing is for the life of a process.
    script = textwrap.dedent(
        """
        import gc
        import ari_app.app  # the application's modules, as a started runtime has them
        from ari_app.heap import freeze_startup_heap

        before = len(gc.get_objects(2))
        frozen = freeze_startup_heap()
        after = len(gc.get_objects(2))
        print(before, frozen, after)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    before, frozen, after = map(int, out.stdout.split())
    assert before > 20_000, out.stdout
    assert frozen >= before, out.stdout
    assert after < before // 100, out.stdout
