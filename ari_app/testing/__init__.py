"""Test helpers shipped with the package: the fake Asterisk and its control API.

:class:`FakeAsterisk` (start it, point an :class:`ari_app.ari.AriClient` at its
``ari_url``) behaves like Asterisk 22.10 as recorded in real ARI captures
(:mod:`ari_app.testing.replay` replays them against it); :class:`FakeCall` is the caller,
:class:`EventLog` collects and waits for typed events, :mod:`ari_app.testing.dialplan`
is the small dialplan inbound calls run.
"""

from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk, FakeCall
from ari_app.testing.model import Behaviour

__all__ = ["APP", "Behaviour", "EventLog", "FakeAsterisk", "FakeCall"]
