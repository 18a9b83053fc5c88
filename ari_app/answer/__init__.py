"""Answers: knowledge base, retrieval, intents and the dialog policy."""
