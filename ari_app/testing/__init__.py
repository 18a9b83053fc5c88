"""Test helpers shipped with the package: the fake Asterisk and its control API.

:class:`FakeAsterisk` (start it, point an :class:`ari_app.ari.AriClient` at its
``ari_url``), :class:`FakeCall` (be the caller) and :class:`EventLog` (collect and wait
for typed events).
"""

from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk, FakeCall
from ari_app.testing.model import Behaviour

__all__ = ["APP", "Behaviour", "EventLog", "FakeAsterisk", "FakeCall"]
