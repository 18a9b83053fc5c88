"""The domain language model: a small trigram model of what callers of this business say.

Input is plain text (knowledge-base prose and questions, handoff phrases); output is an ARPA
language model and a matching pronunciation dictionary for pocketsphinx, plus the phrase list
vosk can use as a grammar. Models are cached on disk under a fingerprint of the normalised
text, so a changed knowledge base yields a new model and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from pocketsphinx.lm import ArpaBoLM

from ari_app.asr.base import AsrError
from ari_app.asr.lexicon import dictionary_lines
from ari_app.asr.text import normalise, split_sentences

log = logging.getLogger(__name__)

BUILDER_VERSION: Final = "1"
"""Bumped when the builder changes, so cached models are rebuilt."""

BASE_PHRASES: Final = (
    "yes",
    "no",
    "yes please",
    "no thank you",
    "thank you",
    "thanks",
    "okay",
    "goodbye",
    "bye",
    "hello",
    "hi",
    "that's all",
    "that is all thank you",
    "sorry",
    "can you repeat that",
    "say that again please",
    "I have a question",
    "I want to talk to a person",
    "can I speak to someone",
    "a real person please",
    "let me talk to a human",
    "operator",
    "representative",
    "the front desk please",
    "I'd like to leave a message",
    "voicemail",
    "I don't know",
    "what",
    "help",
)
"""Generic front-desk phrases every domain model includes (answers, handoff requests)."""

_KB_SUFFIXES: Final = (".md", ".markdown", ".txt", ".yaml", ".yml")
_DISCOUNT_MASS: Final = 0.4


@dataclass(frozen=True, slots=True)
class DomainModel:
    """A built domain model on disk."""

    fingerprint: str
    """Hash of the normalised training sentences and the builder version."""
    lm_path: Path
    """ARPA trigram language model."""
    dict_path: Path
    """Pocketsphinx pronunciation dictionary with exactly the model's words."""
    sentences: tuple[str, ...]
    """The normalised training sentences (also usable as a vosk phrase list)."""
    words: frozenset[str]
    """Vocabulary of the model."""


def training_sentences(texts: Iterable[str], *, include_base: bool = True) -> list[str]:
    """Normalised, de-duplicated sentences from prose and phrases (plus :data:`BASE_PHRASES`)."""
    seen: dict[str, None] = {}
    sources = [*texts, *(BASE_PHRASES if include_base else ())]
    for text in sources:
        for sentence in split_sentences(text):
            norm = normalise(sentence)
            if norm:
                seen.setdefault(norm, None)
    return list(seen)


def fingerprint(sentences: Sequence[str]) -> str:
    """A short stable hash of the training sentences and the builder version."""
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    for sentence in sentences:
        digest.update(sentence.encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _arpa(sentences: Sequence[str]) -> str:
    builder = ArpaBoLM(text="\n".join(sentences), add_start=True, discount_mass=_DISCOUNT_MASS)
    builder.compute()
    out = io.StringIO()
    builder.write(out)
    return out.getvalue()


def build_domain_model(texts: Iterable[str], cache_dir: Path) -> DomainModel:
    """Build (or reuse from ``cache_dir``) the domain model for ``texts`` (blocking)."""
    sentences = training_sentences(texts)
    fp = fingerprint(sentences)
    target = cache_dir / f"domain-{fp}"
    lm_path, dict_path = target / "domain.lm", target / "domain.dict"
    words_in = {w for s in sentences for w in s.split()}
    if not (lm_path.is_file() and dict_path.is_file()):
        target.mkdir(parents=True, exist_ok=True)
        lines, missing = dictionary_lines(words_in)
        if missing:
            log.warning("domain model: no pronunciation for %s; dropped", ", ".join(missing))
            drop = set(missing)
            sentences = [" ".join(w for w in s.split() if w not in drop) for s in sentences]
            sentences = [s for s in sentences if s]
        if not sentences:
            raise AsrError("domain model: no usable training text")
        _write_atomic(dict_path, "\n".join(lines) + "\n")
        _write_atomic(lm_path, _arpa(sentences))
        log.info("built domain model %s: %d sentences, %d words", fp, len(sentences), len(words_in))
    words = frozenset(
        line.split(" ", 1)[0].split("(", 1)[0]
        for line in dict_path.read_text(encoding="utf-8").splitlines()
        if line
    )
    return DomainModel(fp, lm_path, dict_path, tuple(sentences), words)


def _yaml_strings(node: Any, *, keys: frozenset[str] | None, inside: bool = False) -> list[str]:
    """Strings in a YAML tree; with ``keys``, only those under a mapping key in ``keys``."""
    found: list[str] = []
    if isinstance(node, str):
        if keys is None or inside:
            found.append(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            hit = inside or (keys is not None and str(key) in keys)
            found.extend(_yaml_strings(value, keys=keys, inside=hit))
    elif isinstance(node, list):
        for item in node:
            found.extend(_yaml_strings(item, keys=keys, inside=inside))
    return found


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        log.warning("domain text: cannot read %s: %s", path, exc)
        return None


def knowledge_texts(config_dir: Path, knowledge_dir: str = "knowledge") -> list[str]:
    """Domain text found in a config folder: every knowledge file, and handoff/topic phrases.

    Reads ``<config_dir>/<knowledge_dir>/**`` (Markdown, text, and every string in YAML) and
    the ``phrases`` lists anywhere in ``<config_dir>/lines.yaml``. Missing files are skipped.
    """
    texts: list[str] = []
    kb = config_dir / knowledge_dir
    if kb.is_dir():
        for path in sorted(p for p in kb.rglob("*") if p.suffix.lower() in _KB_SUFFIXES):
            if path.suffix.lower() in (".yaml", ".yml"):
                texts.extend(_yaml_strings(_read_yaml(path), keys=None))
            else:
                try:
                    texts.append(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError) as exc:
                    log.warning("domain text: cannot read %s: %s", path, exc)
    lines = config_dir / "lines.yaml"
    if lines.is_file():
        texts.extend(_yaml_strings(_read_yaml(lines), keys=frozenset({"phrases"})))
    return texts


def domain_model_for_config(
    config_dir: Path, cache_dir: Path, knowledge_dir: str = "knowledge"
) -> DomainModel:
    """Build or reuse the domain model of a config folder (call again after a reload).

    Blocking; run it in a thread. An unchanged knowledge base returns the cached model
    (same fingerprint), so calling this on every reload is cheap.
    """
    return build_domain_model(knowledge_texts(config_dir, knowledge_dir), cache_dir)
