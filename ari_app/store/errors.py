"""Errors of the call store."""

from __future__ import annotations

import sqlite3

from ari_app.errors import AriAppError, Stage


class StoreError(AriAppError):
    """The call store could not be opened, migrated, read or written."""

    stage = Stage.STORE


def is_transient(exc: BaseException) -> bool:
    """True for a failure that may pass if the write is tried again: the file is locked
    by another process, the disk is full, an I/O error (SQLite's ``OperationalError``)."""
    return isinstance(exc, StoreError) and isinstance(exc.__cause__, sqlite3.OperationalError)
