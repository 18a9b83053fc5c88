"""Where the speech evaluation data lives: Debian's recorded prompts and our sample questions.

Used by the speech tests and ``bench/asr_wer.py``; the prompts come from the Debian package
``asterisk-core-sounds-en-wav`` (installed by ``scripts/bootstrap.sh test``), their texts
from ``prompts.tsv``; the questions and stand-in knowledge text from ``bench/data/``.
"""

from __future__ import annotations

import csv
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]
BENCH_DATA: Final = REPO / "bench" / "data"
SOUNDS_PACKAGE: Final = "asterisk-core-sounds-en-wav"
DEFAULT_PROMPTS_TSV: Final = REPO.parent / "shared" / "asr-eval" / "prompts.tsv"


@dataclass(frozen=True, slots=True)
class Prompt:
    """One recorded stock prompt and what it says."""

    sound: str
    text: str
    path: Path


def caller_questions() -> list[str]:
    """The sample-business caller questions (``bench/data/caller_questions.txt``)."""
    lines = (BENCH_DATA / "caller_questions.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def domain_corpus() -> str:
    """The stand-in knowledge-base text (``bench/data/domain_corpus.md``)."""
    return (BENCH_DATA / "domain_corpus.md").read_text(encoding="utf-8")


def debian_sound_files(package: str = SOUNDS_PACKAGE) -> dict[str, Path]:
    """Installed ``.wav`` files of ``package`` by sound name (``followme/options``)."""
    listing = subprocess.run(
        ["dpkg-query", "-L", package], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    files: dict[str, Path] = {}
    for line in listing:
        path = Path(line)
        if path.suffix != ".wav":
            continue
        parts = path.parts
        # .../sounds/<voice dir>/<name>.wav or .../sounds/<voice dir>/<sub>/<name>.wav
        idx = parts.index("sounds") if "sounds" in parts else len(parts) - 2
        name = "/".join(parts[idx + 2 :])[: -len(".wav")]
        files.setdefault(name, path)
    return files


def stock_prompts(tsv: Path = DEFAULT_PROMPTS_TSV) -> list[Prompt]:
    """The prompts listed in ``prompts.tsv`` with the paths where Debian installed them."""
    files = debian_sound_files()
    with tsv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    missing = [r["sound"] for r in rows if r["sound"] not in files]
    if missing:
        raise FileNotFoundError(f"{SOUNDS_PACKAGE} lacks {', '.join(missing)}")
    return [Prompt(r["sound"], r["transcript"], files[r["sound"]]) for r in rows]
