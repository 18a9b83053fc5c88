"""Errors of the call store."""

from __future__ import annotations

from ari_app.errors import AriAppError, Stage


class StoreError(AriAppError):
    """The call store could not be opened, migrated, read or written."""

    stage = Stage.STORE
