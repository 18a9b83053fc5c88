"""Dashboard access: one bearer token from the environment, checked on every request."""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from ari_app.errors import AriAppError, Stage

DEFAULT_TOKEN_ENV = "ARI_APP_DASHBOARD_TOKEN"
COOKIE = "ari_app_dashboard"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DashboardError(AriAppError):
    """The dashboard cannot start (no token, port in use)."""

    stage = Stage.CONFIG


def token_from_env(name: str = DEFAULT_TOKEN_ENV) -> str:
    """The dashboard token from environment variable ``name`` (at least 16 characters)."""
    token = os.environ.get(name, "")
    if len(token) < 16:
        raise DashboardError(
            f"the dashboard needs a token of at least 16 characters in the environment "
            f"variable {name} (e.g. export {name}=$(openssl rand -hex 24))"
        )
    return token


def _matches(candidate: str | None, token: str) -> bool:
    """Constant-time comparison; any text that is not valid Unicode simply does not match."""
    if candidate is None:
        return False
    try:
        given = candidate.encode("utf-8")
    except UnicodeError:  # lone surrogates from undecodable header or cookie bytes
        return False
    return hmac.compare_digest(given, token.encode("utf-8"))


def _cookie(request: web.Request) -> str | None:
    try:
        return request.cookies.get(COOKIE)
    except (ValueError, KeyError, UnicodeError):  # a cookie header that does not parse
        return None


def token_middleware(token: str) -> Middleware:
    """Require the token as ``Authorization: Bearer``, the session cookie, or ``?token=``.

    ``?token=`` (for a browser) sets an HttpOnly cookie and redirects to the same page
    without the token in its address.
    """

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        bearer = header[7:] if header.startswith("Bearer ") else None
        if _matches(bearer, token) or _matches(_cookie(request), token):
            return await handler(request)
        if _matches(request.query.get("token"), token):
            query = {k: v for k, v in request.query.items() if k != "token"}
            response = web.HTTPFound(request.rel_url.with_query(query))
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            raise response
        return web.Response(
            status=401,
            text="401 Unauthorized: the dashboard needs its token "
            "(Authorization: Bearer <token>, or open /?token=<token> once).\n",
            headers={"WWW-Authenticate": 'Bearer realm="ari_app"'},
        )

    return check
