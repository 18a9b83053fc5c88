"""Errors of the call store."""

from __future__ import annotations

import sqlite3

from ari_app.errors import AriAppError, Stage


class StoreError(AriAppError):
    """The call store could not be opened, migrated, read or written."""

    stage = Stage.STORE
    transient: bool = False
    """Set when the failure may pass if tried again (PostgreSQL unreachable or restarting)."""


def is_transient(exc: BaseException) -> bool:
    """True for a failure that may pass if the write is tried again: the file is locked
    by another process, the disk is full, an I/O error (SQLite's ``OperationalError``),
    or the PostgreSQL server is unreachable or restarting."""
    if not isinstance(exc, StoreError):
        return False
    return exc.transient or isinstance(exc.__cause__, sqlite3.OperationalError)
