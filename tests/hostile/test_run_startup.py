"""``ari-app run`` start-up failures: one clear line, exit 1, before models or ARI (#11, #17).

On 84284e2 a short dashboard token, a dashboard port in use or a broken knowledge base
printed tracebacks after the models loaded and ARI was connected; a password in ari.url
was printed. Here ARI points at a closed port: reaching it would be the wrong message.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ari_app.cli import main
from ari_app.web.auth import DEFAULT_TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    app = target / "app.yaml"
    app.write_text(
        app.read_text().replace("http://127.0.0.1:8088", f"http://127.0.0.1:{closed_port}")
    )
    monkeypatch.setenv("ARI_PASSWORD", "some-password")
    monkeypatch.delenv(DEFAULT_TOKEN_ENV, raising=False)
    return target


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def run(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    status = main(["run", "-c", str(config), "--ari-timeout", "2", *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return status, captured.err


def test_a_short_dashboard_token_is_one_line_before_ari(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault #11: a token under 16 characters gave a traceback after models and ARI."""
    monkeypatch.setenv(DEFAULT_TOKEN_ENV, "short")
    status, err = run(config, capsys)
    assert status == 1
    assert err.count("\n") == 1
    assert err.startswith("ari-app run: the dashboard needs a token of at least 16 characters")


def test_a_dashboard_port_in_use_is_one_line_before_ari(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    busy_port: int,
) -> None:
    """Fault #11: a dashboard port in use gave a traceback after models and ARI."""
    monkeypatch.setenv(DEFAULT_TOKEN_ENV, "a-long-enough-dashboard-token")
    status, err = run(config, capsys, "--dashboard-port", str(busy_port))
    assert status == 1
    assert err == (
        f"ari-app run: cannot serve the dashboard on 127.0.0.1:{busy_port}: "
        "Address already in use (choose another with --dashboard-port)\n"
    )


def test_a_broken_knowledge_base_stops_run_before_ari(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault #11 (and #3): a broken knowledge base passed, then every AI call failed."""
    kb = config / "knowledge" / "money.yaml"
    kb.write_text("entries:\n  - id: x\n    questions: [a]\n    answer: see www.example.com\n")
    status, err = run(config, capsys)
    assert status == 1
    assert f"{kb}:4: answer contains a web address" in err
    assert "cannot reach ARI" not in err


def test_infinity_in_the_config_stops_run(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Fault #11/#12: ``silence_seconds: .inf`` started, then failed the caller."""
    lines = config / "lines.yaml"
    lines.write_text(lines.read_text().replace("silence_seconds: 5", "silence_seconds: .inf"))
    status, err = run(config, capsys)
    assert status == 1
    assert "silence_seconds" in err
    assert "cannot reach ARI" not in err


def test_a_password_in_the_ari_url_is_never_printed(
    config: Path, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    """Fault #17: ``http://user:pw@host`` in ari.url was printed by run."""
    app = config / "app.yaml"
    app.write_text(
        app.read_text().replace(
            f"http://127.0.0.1:{closed_port}",
            f"http://ari_app:Sup3r-s3cret@127.0.0.1:{closed_port}",
        )
    )
    status, err = run(config, capsys)
    assert status == 1
    assert "Sup3r-s3cret" not in err
    assert "must not contain a user or password" in err
