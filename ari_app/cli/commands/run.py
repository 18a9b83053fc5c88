"""``ari-app run -c DIR``: start the front desk against the Asterisk named in app.yaml.

First a start-up check: load the configuration, ask ARI for ``GET /ari/asterisk/info``
with the configured user, and say in one line what is wrong when Asterisk cannot be
reached or refuses the credentials, naming the URL and the user (exit 1). Then load the
models once, connect the events WebSocket and take calls until SIGTERM (drain calls in
progress, exit 0); SIGHUP reloads the configuration, keeping the last good one. With
ARI_APP_DASHBOARD_TOKEN set, the dashboard and /metrics are served on loopback.

Every start-up failure is one line on stderr and exit status 1, found before the models
load where it can be: a configuration problem (knowledge bases included), a dashboard
token under 16 characters, a dashboard port in use, Asterisk unreachable or refusing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import Any

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriConnectionError, AriHttpError, AriTimeout, Unauthorized
from ari_app.config import Config, ConfigError, ConfigHolder, load_config
from ari_app.errors import AriAppError, Stage
from ari_app.health import DEFAULT_PATH as DEFAULT_HEALTH_PATH
from ari_app.heap import freeze_startup_heap
from ari_app.web.auth import DEFAULT_TOKEN_ENV, DashboardError, token_from_env

DEFAULT_TIMEOUT_SECONDS = 5.0


class AriStartupError(AriAppError):
    """ARI cannot be used at start-up; the message is one line naming URL and user."""

    stage = Stage.ARI

    def __str__(self) -> str:
        return str(self.args[0])


class AriUnreachable(AriStartupError):
    """Nothing answered at the ARI URL (refused, no route, unknown host, timeout)."""


class AriRefused(AriStartupError):
    """Asterisk answered 401: the user or password is wrong."""


class AriUnexpected(AriStartupError):
    """Asterisk answered with another error status (e.g. 404 when res_ari is not loaded)."""


def register(sub: Any) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser("run", help="run the front desk against Asterisk (ARI)")
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="config directory"
    )
    parser.add_argument(
        "--ari-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for ARI at start-up (default %(default)s)",
    )
    parser.add_argument("--dashboard-host", default="127.0.0.1", help="dashboard address")
    parser.add_argument("--dashboard-port", type=int, default=8089, help="dashboard port")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=60.0,
        help="on SIGTERM, how long calls in progress may go on (default %(default)s)",
    )
    parser.add_argument(
        "--health-file",
        type=Path,
        default=DEFAULT_HEALTH_PATH,
        help="heartbeat file that `ari-app health` reads (default %(default)s)",
    )
    parser.set_defaults(handler=run)


def _reason(err: BaseException) -> str:
    """A short, single-line reason for a failed connection."""
    os_error = getattr(err, "os_error", None)
    if isinstance(os_error, OSError) and os_error.errno:
        # asyncio words a refused connect as "Connect call failed (...)"; the errno is clearer.
        text = os.strerror(os_error.errno)
    elif isinstance(os_error, OSError) and os_error.strerror:
        text = os_error.strerror
    elif isinstance(err, TimeoutError):
        text = "no answer in time"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


async def check_ari(url: str, username: str, password: str, wait_seconds: float) -> dict[str, Any]:
    """Ask ARI for ``/ari/asterisk/info`` as ``username``; return the info or raise.

    Goes through the ARI client (its typed errors: ``Unauthorized``, ``AriHttpError``,
    ``AriConnectionError``, ``AriTimeout``) and gives up after ``wait_seconds``. Raises
    ``AriUnreachable``, ``AriRefused`` or ``AriUnexpected``, each with a one-line message
    naming ``url`` and ``username``.
    """
    base = url.rstrip("/")
    async with AriClient(f"{base}/ari", username, password, "", timeout=wait_seconds) as ari:
        try:
            info = await ari.asterisk_info()
        except Unauthorized as err:
            raise AriRefused(
                f"ARI refused the credentials of user {username} at {base} (401)"
            ) from err
        except AriHttpError as err:
            raise AriUnexpected(
                f"ARI at {base} answered {err.status} {err.message} to "
                f"GET /ari/asterisk/info as {username}"
            ) from err
        except (AriConnectionError, AriTimeout) as err:
            why = _reason(err.__cause__ or TimeoutError())
            raise AriUnreachable(f"cannot reach ARI at {base} as {username}: {why}") from err
    if not isinstance(info, dict):
        raise AriUnexpected(f"ARI at {base} answered something that is not JSON")
    return info


async def run(args: argparse.Namespace) -> int:
    """Check that ARI accepts the configured user; exit 1 with one line when it does not."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"ari-app run: {len(err.problems)} problem(s) in {args.config}", file=sys.stderr)
        return 1
    try:
        _check_dashboard(args)
    except DashboardError as err:
        print(f"ari-app run: {err.args[0]}", file=sys.stderr)
        return 1
    ari = config.app.ari
    password = os.environ.get(ari.password_env)
    if ari.mode == "outbound":
        return await _run_outbound(args, config, password or "")
    if not password:
        print(
            f"ari-app run: the ARI password of user {ari.username} is not set: "
            f"put it in the environment variable {ari.password_env}",
            file=sys.stderr,
        )
        return 1
    try:
        info = await check_ari(ari.url, ari.username, password, args.ari_timeout)
    except AriStartupError as err:
        print(f"ari-app run: {err}", file=sys.stderr)
        return 1
    version = (info.get("system") or {}).get("version", "unknown version")
    print(
        f"ari-app run: ARI at {ari.url.rstrip('/')} accepts user {ari.username} "
        f"(Asterisk {version}); loading speech and answer models",
        file=sys.stderr,
        flush=True,
    )
    return await serve(args.config, password, args)


async def _run_outbound(args: argparse.Namespace, config: Config, password: str) -> int:
    """``ari.mode: outbound``: Asterisk connects to us, so there is nothing to call first.

    The password Asterisk sends (``ari.outbound.password_env``) must be set; the HTTP ARI
    password (``ari.password_env``) is optional: with it, voicemail fetches recordings'
    audio over HTTP (checked now), without it voicemail recordings stay in Asterisk.
    """
    ari = config.app.ari
    out = ari.outbound
    if not os.environ.get(out.password_env):
        print(
            f"ari-app run: ari.mode is outbound: the password Asterisk sends as user "
            f"{out.username} is not set: put it in the environment variable {out.password_env}",
            file=sys.stderr,
        )
        return 1
    if password:
        try:
            await check_ari(ari.url, ari.username, password, args.ari_timeout)
        except AriStartupError as err:
            print(f"ari-app run: {err}", file=sys.stderr)
            return 1
    recordings = (
        f"recordings over HTTP ARI at {ari.url.rstrip('/')}"
        if password
        else f"no HTTP ARI for recordings ({ari.password_env} not set)"
    )
    print(
        f"ari-app run: ari.mode outbound: Asterisk connects to "
        f"ws://{out.host}:{out.port}{out.path} as {out.username}; {recordings}; "
        "loading speech and answer models",
        file=sys.stderr,
        flush=True,
    )
    return await serve(args.config, password, args)


def _check_dashboard(args: argparse.Namespace) -> None:
    """With a dashboard token set: it is long enough and the port is free (DashboardError)."""
    if not os.environ.get(DEFAULT_TOKEN_ENV):
        return
    token_from_env()
    host, port = args.dashboard_host, args.dashboard_port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise DashboardError(
            f"cannot serve the dashboard on {host}:{port}: {reason} "
            "(choose another with --dashboard-port)"
        ) from None


async def serve(config_dir: Path, password: str, args: argparse.Namespace) -> int:
    """Take calls until SIGTERM/SIGINT (drain, exit 0); SIGHUP reloads the configuration."""
    # Imported here so that every other ari-app command starts without loading the models' code.
    from ari_app.app import install_signal_handlers, start_runtime  # noqa: PLC0415
    from ari_app.web.app import start_dashboard  # noqa: PLC0415

    try:
        holder = ConfigHolder(config_dir)
    except ConfigError as err:  # changed since the check a moment ago
        print(f"ari-app run: {err.problems[0] if err.problems else err}", file=sys.stderr)
        return 1
    runtime = await start_runtime(holder, password, health_file=args.health_file)
    freeze_startup_heap()
    dashboard = None
    token_env = os.environ.get(DEFAULT_TOKEN_ENV)
    if token_env and runtime.store is not None:
        try:
            dashboard = await start_dashboard(
                runtime.store.reader,
                token_from_env(),
                host=args.dashboard_host,
                port=args.dashboard_port,
            )
        except DashboardError as err:  # e.g. the port was taken since the check
            print(f"ari-app run: {err.args[0]}", file=sys.stderr)
            await runtime.stop(drain_s=0)
            return 1
    stop = asyncio.Event()
    install_signal_handlers(runtime, stop)
    config = holder.current
    where = (
        f"dashboard on http://{args.dashboard_host}:{args.dashboard_port}/"
        if dashboard is not None
        else f"dashboard off (set {DEFAULT_TOKEN_ENV})"
    )
    print(
        f"ari-app run: taking calls for Stasis({config.app.ari.app},<line>) on line(s) "
        f"{', '.join(config.lines)}; {where}",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
        print("ari-app run: stopping, finishing calls in progress", file=sys.stderr, flush=True)
    finally:
        if dashboard is not None:
            await dashboard.cleanup()
        await runtime.stop(drain_s=args.drain_seconds)
    return 0


__all__ = ["AriRefused", "AriStartupError", "AriUnexpected", "AriUnreachable", "check_ari"]
