"""Test helpers shipped with the package: the fake Asterisk and its control API."""
