"""Health check of the lab's ari-app container: is the Stasis application registered?

Asks Asterisk, with ari-app's own ARI settings (``app.yaml`` of the configuration
directory, password from the environment variable it names), for
``GET /ari/applications/{app}``. Asterisk answers 200 only while an application of that
name is registered, that is while ari-app holds its events WebSocket; 404 once it has
gone. Exit status 0 when registered, 1 otherwise, with one line saying why.

Usage: ``python app_healthcheck.py [CONFIG_DIR]`` (default ``config``). Standard library
and PyYAML only, so it runs in the app image without the project's own imports.
"""

from __future__ import annotations

import base64
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

TIMEOUT_SECONDS = 3.0


def ari_settings(config_dir: Path) -> tuple[str, str, str, str]:
    """Return (url, username, password, app) from ``app.yaml`` and the environment."""
    with (config_dir / "app.yaml").open(encoding="utf-8") as fh:
        doc: Any = yaml.safe_load(fh) or {}
    ari: dict[str, Any] = doc.get("ari") or {}
    url = str(ari.get("url", "http://127.0.0.1:8088")).rstrip("/")
    username = str(ari.get("username", "ari_app"))
    password = os.environ.get(str(ari.get("password_env", "ARI_PASSWORD")), "")
    app = str(ari.get("app", "ari-app"))
    return url, username, password, app


def check(config_dir: Path) -> tuple[bool, str]:
    """Ask Asterisk whether the application is registered; return (healthy, reason)."""
    url, username, password, app = ari_settings(config_dir)
    target = f"{url}/ari/applications/{urllib.parse.quote(app, safe='')}"
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    request = urllib.request.Request(target, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as err:
        status = err.code
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        return False, f"cannot reach ARI at {url}: {reason}"
    if status == 200:
        return True, f"Stasis application {app} is registered at {url}"
    if status == 404:
        return False, f"Stasis application {app} is not registered at {url}"
    if status == 401:
        return False, f"ARI refused the credentials of user {username} at {url} (401)"
    return False, f"ARI answered {status} for {target}"


def main(argv: list[str]) -> int:
    """Run the check and print its one-line outcome."""
    config_dir = Path(argv[1]) if len(argv) > 1 else Path("config")
    healthy, reason = check(config_dir)
    print(f"app_healthcheck: {reason}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
