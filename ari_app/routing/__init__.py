"""Routing: business hours, holidays, lines, teams and ring strategies (pure code)."""
