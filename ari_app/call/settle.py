"""Requests that create something in Asterisk must finish even when the call is cancelled.

When a caller hangs up while, say, ``POST /channels/externalMedia`` is on its way, the
call's task is cancelled. Abandoning the request there would leave Asterisk to create the
channel after our clean-up has already tried (and failed, 404) to hang it up: a leak.
:func:`settled` lets such a request finish (within a grace period) before the cancellation
goes on, so the clean-up that follows always finds what was created.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
GRACE_S = 5.0


async def settled(request: Coroutine[Any, Any, T], grace_s: float = GRACE_S) -> T:
    """Await ``request``; if we are cancelled meanwhile, let it finish, then re-raise."""
    task = asyncio.ensure_future(request)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception, TimeoutError):
            async with asyncio.timeout(grace_s):
                await task
        raise
