"""Durable call records in SQLite."""
