"""Shared parts of the record commands (calls, call, voicemails, report): options and output.

Caller ids and transcripts come from outside (a caller chooses their caller id), so every
text these commands print passes :func:`safe` (tables and JSON do it themselves): control
characters, ANSI escape sequences, C1 controls and bidi overrides are shown as visible
escapes (``\x1b``, ``\u202e``) instead of acting on the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ari_app.store.db import Database
from ari_app.store.paths import store_settings
from ari_app.store.reader import StoreReader
from ari_app.store.since import parse_since
from ari_app.store.target import database_for


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--db``, ``-c/--config`` and ``--json``."""
    parser.add_argument(
        "--db",
        type=Path,
        help="the store file (default: store.path in CONFIG/app.yaml, else var/ari_app.sqlite3)",
    )
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="config directory"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_since_argument(parser: argparse.ArgumentParser) -> None:
    """``--since``: a duration back from now (30m, 24h, 7d) or a date/time (UTC if no offset)."""
    parser.add_argument(
        "--since", help="only from this moment: 30m, 24h, 7d, or 2026-11-01[T09:00[+01:00]]"
    )


def db_path(args: argparse.Namespace) -> Path | Database:
    """The store the command reads: ``--db FILE``, else ``store.url`` (PostgreSQL, the
    password from ``store.password_env``) or ``store.path`` of CONFIG/app.yaml."""
    if args.db is not None:
        return Path(args.db)
    return database_for(store_settings(Path(args.config) / "app.yaml"))


def open_reader(args: argparse.Namespace) -> StoreReader:
    """A reader on the chosen store, opened (raises StoreError with a clear message)."""
    reader = StoreReader(db_path(args))
    reader.open()
    return reader


def since_epoch(args: argparse.Namespace) -> float | None:
    """``--since`` as epoch seconds (raises ValueError with a clear message)."""
    if getattr(args, "since", None) is None:
        return None
    return parse_since(args.since, datetime.now(UTC)).timestamp()


def fail(command: str, message: str, status: int = 1) -> int:
    """Print a one-line error naming the command; return ``status``."""
    print(f"ari-app {command}: {safe(message)}", file=sys.stderr)
    return status


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe(text: object) -> str:
    """``text`` fit for a terminal: anything not printable (C0/C1 controls, ESC, DEL, bidi
    overrides and isolates, zero-width and other format characters) as a visible escape."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else _escape(c) for c in value)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def print_json(data: Any) -> None:
    """Pretty JSON on stdout; characters a terminal would act on are \\u-escaped."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    print("".join(c if c.isprintable() or c == "\n" else _json_escape(c) for c in text))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns sized to their widest cell (every cell made :func:`safe`)."""
    rows = [[safe(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def when(epoch: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` UTC, or ''."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def pct(rate: float | None) -> str:
    """A rate as a whole percentage, or '-' when there is nothing to divide."""
    return "-" if rate is None else f"{rate * 100:.0f}%"
