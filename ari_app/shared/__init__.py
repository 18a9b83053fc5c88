"""State a pool of workers shares so routing stays right: round robin, idle, busy, seats, calls.

See :mod:`ari_app.shared.protocols` for the interfaces and :class:`SharedState` for how a
worker gets the right implementation (in memory on one box, in the PostgreSQL store for a
pool).
"""

from ari_app.shared.protocols import AiSeats, CallOwnership, OwnedCall, RoutingState
from ari_app.shared.state import SharedState

__all__ = ["AiSeats", "CallOwnership", "OwnedCall", "RoutingState", "SharedState"]
