"""Voicemail: recording, saving durably and notifying."""
