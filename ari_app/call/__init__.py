"""One CallSession per caller: states, handoff, cleanup and the call's event stream."""
