"""Typed errors of the ARI client: HTTP status classes, timeouts, lost connections."""

from __future__ import annotations

from ari_app.errors import AriAppError, Stage


class AriError(AriAppError):
    """Any failure talking to Asterisk's REST interface."""

    stage = Stage.ARI


class AriHttpError(AriError):
    """Asterisk answered with an HTTP error status."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.status = status
        self.method = method
        self.path = path
        self.message = message


class BadRequest(AriHttpError):
    """400: a parameter is missing or invalid."""


class Unauthorized(AriHttpError):
    """401: wrong or missing ARI credentials."""


class NotFound(AriHttpError):
    """404: the resource (bridge, playback, recording, endpoint ...) does not exist."""


class ChannelGone(NotFound):
    """404 on a channel: the caller hung up meanwhile; an ordinary event of a call, not a crash."""


class Conflict(AriHttpError):
    """409: the resource is in the wrong application or already exists."""


class InvalidState(AriHttpError):
    """412: the channel or bridge is in a state that forbids the request."""


class UnprocessableEntity(AriHttpError):
    """422: the request is well formed but names something unknown (e.g. a record format)."""


class AriTimeout(AriError):
    """A request got no answer within its timeout."""


class AriConnectionError(AriError):
    """Asterisk could not be reached (refused, reset, DNS)."""


_BY_STATUS: dict[int, type[AriHttpError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    412: InvalidState,
    422: UnprocessableEntity,
}


def http_error(status: int, method: str, path: str, template: str, message: str) -> AriHttpError:
    """The typed error for ``status``; a 404 under ``/channels/{channelId}`` is ChannelGone."""
    if status == 404 and template.startswith("/channels/{channelId}"):
        return ChannelGone(status, method, path, message)
    cls = _BY_STATUS.get(status, AriHttpError)
    return cls(status, method, path, message)
