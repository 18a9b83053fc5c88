"""The knowledge base as the answer engine sees it (read and validated by ``ari_app.config``).

The knowledge base is configuration: :mod:`ari_app.config.knowledge` reads it, so
``check-config`` and a reload refuse a broken one with file:line errors. This module keeps
the names the answer layer has always used.
"""

from __future__ import annotations

from ari_app.config.knowledge import (
    Entry,
    KnowledgeBase,
    KnowledgeBaseError,
    load_knowledge_base,
)

__all__ = ["Entry", "KnowledgeBase", "KnowledgeBaseError", "load_knowledge_base"]
