"""A throwaway PostgreSQL cluster for tests and labs: Debian's server, as a non-root user.

``PgCluster.start()`` runs ``initdb`` in a new temporary folder (owned by the ``postgres``
user when we are root, since PostgreSQL refuses to run as root), starts the server on a
free loopback port with its socket in that folder, and gives a superuser with a password
(password authentication over TCP, as a real deployment would). ``database()`` creates a
fresh database and returns its URL; ``restart()`` is ``pg_ctl restart``; ``stop()`` stops
the server and deletes the folder. The server binaries come from the Debian package
``postgresql`` (``scripts/bootstrap.sh test`` installs it).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

SUPERUSER = "ari_app"
RUN_AS = "postgres"
"""The system user the server runs as when we are root (made by Debian's package)."""


class PgClusterError(RuntimeError):
    """The cluster could not be made or started (the message says what to install)."""


def find_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: Debian's newest, else the ``PATH``'s."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found is not None:
        return Path(found).resolve().parent
    raise PgClusterError(
        "PostgreSQL's initdb is not installed: run `scripts/bootstrap.sh test` "
        "(or `apt-get install postgresql`) to get the Debian package postgresql"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """One PostgreSQL server in a temporary folder, for the life of a test session."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.password = secrets.token_hex(12)
        self.port = 0
        self.root: Path | None = None
        self._count = 0

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        assert self.root is not None
        result = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if check and result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgClusterError(
                f"{' '.join(args[:2])} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )
        return result

    def start(self) -> PgCluster:
        """Make the cluster and start the server."""
        self.root = Path(tempfile.mkdtemp(prefix="ari-app-pg-"))
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, RUN_AS)
            shutil.chown(pwfile, RUN_AS)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-instructions",
        )
        self.port = free_port()
        self._start()
        return self

    def _start(self) -> None:
        assert self.root is not None
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut; committed data stays."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self._start()

    def stop(self) -> None:
        """Stop the server and delete the folder."""
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def url(self, database: str = "postgres") -> str:
        """The URL of ``database`` (no password: pass :attr:`password` separately)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        self._count += 1
        name = f"{prefix}_{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), password=self.password, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
